"""Community rules of issue 7 (the ``activities:`` and ``points:`` sections of the community YAML)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class ActivityRules(BaseModel):
    """When activity announcements go out, besides the one on publication."""

    #: minutes before the start at which the announcement is posted again (the day before, an hour before)
    notices_before_minutes: list[int] = Field(default_factory=lambda: [1440, 60])
    max_capacity: int = Field(default=10_000, gt=0)

    @field_validator("notices_before_minutes")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(minutes <= 0 for minutes in value):
            raise ValueError("notices_before_minutes must be positive minutes")
        return sorted(set(value), reverse=True)


class PointRules(BaseModel):
    """Volunteer points (积分): what attendance and resolved cases earn."""

    attendance: int = Field(default=10, ge=0)
    case_resolved: int = Field(default=5, ge=0)
    #: extra points per category for a resolved case (e.g. care: 5)
    case_bonus: dict[str, int] = Field(default_factory=dict)

    def for_case(self, category: str) -> int:
        """Points for resolving a case of ``category``."""
        return self.case_resolved + self.case_bonus.get(category, 0)
