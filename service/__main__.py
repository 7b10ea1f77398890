"""`python -m service`: the HTTP service, with `flagkit serve`'s options (`service.command`)."""

import sys

from service.command import main

sys.exit(main())
