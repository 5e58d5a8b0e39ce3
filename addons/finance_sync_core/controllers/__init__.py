from . import ops, webhook
