from . import webhook
from . import ops
