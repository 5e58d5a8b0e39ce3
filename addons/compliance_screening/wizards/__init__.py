from . import screening_case_clear, screening_list_upload
