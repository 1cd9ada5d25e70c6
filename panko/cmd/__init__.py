"""panko's commands.

eventlet warns, when it is imported, that it is deprecated: seven lines at
each start of panko-dispatcher. panko uses no eventlet (its listeners use
oslo.messaging's 'threading' executor, its processes are cotyledon's), but
oslo.service, which oslo.messaging needs, requires it, and futurist and
oslo.service import it whenever it is installed. Nobody running panko can
act on the warning, so the commands ignore it; any other warning is shown.
Not in ``panko/__init__.py``: the ``panko://`` publisher imports panko in
Ceilometer's processes, whose warnings are Ceilometer's business.
"""

import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated\.')
