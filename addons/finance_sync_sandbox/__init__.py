# The simulator lives in ``sandbox_server`` and imports nothing from Odoo; it is not
# imported here (``python -m sandbox_server`` runs without Odoo). ``models`` holds the
# Odoo side: demo backends wired to the simulator.
from . import models
