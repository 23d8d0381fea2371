"""The base of every aggregate: a stored document as a typed object, with the version it was read at."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr


class Aggregate(BaseModel):
    """Loaded, changed and saved whole by its store; `revision` makes a save fail if someone wrote in between.

    Stored fields it does not declare are ignored (another deployment may have written
    more); what it declares, with its defaults, is all the code relies on.
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    _revision: str | None = PrivateAttr(default=None)

    @property
    def revision(self) -> str | None:
        """The stored document's version this object was read at (None until first stored)."""
        return self._revision

    def stored(self) -> dict[str, Any]:
        """What the document holds."""
        return self.model_dump(mode="json")
