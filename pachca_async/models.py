"""Every model of the Pachca API (generated from openapi.yaml), importable by name.

```python
from pachca_async.models import Message, Chat, MessageEntityType
```
"""

from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as __all__
