from . import screening_list_upload
from . import screening_case_clear
