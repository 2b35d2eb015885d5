"""Is a rater paying attention? Catch faces rejected and repeated faces judged the same way twice.

- Catch faces are raw uniform draws at a very wide range: an attentive rater rejects them. The
  share is rejects over all votes on catch faces, so "unsure" about an obviously broken face
  counts against the rater.
- A repeated face is a second showing of a study face. A pair counts when the rater has a
  standing vote on both showings; it agrees when the two votes are the same.

The exclusion rule comes from the study definition (fixed before anyone rated). A rater
without any catch vote (or repeated pair) cannot fail that part of the rule: no evidence is
not evidence of carelessness, and the report shows the counts so a reader can see it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.study.conditions import CATCH
from app.study.database import Vote
from app.study.definition import StudyDefinition, StudyFace


@dataclass(frozen=True)
class RaterAttention:
    rater: str
    catch_votes: int
    catch_rejected: int
    repeat_pairs: int
    repeat_agreed: int
    reasons: tuple[str, ...]  # why the exclusion rule flags this rater; empty when it does not

    @property
    def catch_share(self) -> float:
        return self.catch_rejected / self.catch_votes if self.catch_votes else math.nan

    @property
    def repeat_agreement(self) -> float:
        return self.repeat_agreed / self.repeat_pairs if self.repeat_pairs else math.nan

    @property
    def excluded(self) -> bool:
        return bool(self.reasons)

    def describe(self) -> str:
        """One line: the catch faces rejected, the repeated faces voted the same, and the rule's verdict."""
        verdict = f"flagged by the exclusion rule: {'; '.join(self.reasons)}" if self.reasons else "not flagged"
        return (
            f"attention checks of {self.rater}: rejected {self.catch_rejected} of {self.catch_votes} catch faces, "
            f"voted the same on {self.repeat_agreed} of {self.repeat_pairs} repeated faces; {verdict}"
        )


def rater_attention(
    definition: StudyDefinition, faces: dict[int, StudyFace], votes: list[Vote]
) -> list[RaterAttention]:
    """One entry per rater (sorted by id), with the exclusion rule of ``definition`` applied."""
    result = []
    for rater in sorted({vote.rater for vote in votes}):
        own = {vote.face_id: vote.vote for vote in votes if vote.rater == rater}
        catch = [choice for face_id, choice in own.items() if faces[face_id].condition == CATCH]
        pairs = [
            (choice, own[original])
            for face_id, choice in own.items()
            if (original := faces[face_id].repeats) is not None and original in own
        ]
        entry = RaterAttention(
            rater,
            len(catch),
            sum(choice == "reject" for choice in catch),
            len(pairs),
            sum(first == second for first, second in pairs),
            (),
        )
        reasons = []
        if (
            definition.min_catch_rejected > 0
            and entry.catch_votes
            and entry.catch_share < definition.min_catch_rejected
        ):
            reasons.append(
                f"rejected {entry.catch_rejected} of {entry.catch_votes} catch faces "
                f"(rule: at least {100 * definition.min_catch_rejected:g} %)"
            )
        if (
            definition.min_repeat_agreement > 0
            and entry.repeat_pairs
            and entry.repeat_agreement < definition.min_repeat_agreement
        ):
            reasons.append(
                f"voted the same on {entry.repeat_agreed} of {entry.repeat_pairs} repeated faces "
                f"(rule: at least {100 * definition.min_repeat_agreement:g} %)"
            )
        result.append(
            RaterAttention(
                entry.rater,
                entry.catch_votes,
                entry.catch_rejected,
                entry.repeat_pairs,
                entry.repeat_agreed,
                tuple(reasons),
            )
        )
    return result
