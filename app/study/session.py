"""One rater working through a study: blind order, timing, votes, undo, pause and resume.

The rater window only draws what this object says and forwards key presses to it, so the
whole session logic (and its durability) is testable without Qt. A session never keeps votes
in memory: the next face is chosen from what is on disk, which is also how a reopened session
resumes where the rater left off.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.errors import FaceExplorerError
from app.model.provenance import ModelProvenance
from app.study.database import RatingsDatabase, Vote, utc_now
from app.study.definition import StudyFace, normalise_rater_id, rater_order


class RatingSession:
    def __init__(
        self,
        database: RatingsDatabase,
        rater_id: str,
        model: ModelProvenance,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        database.require_model(model)
        assert model.digest is not None  # require_model accepts only a model with the study's digest
        self.database = database
        self.rater = normalise_rater_id(rater_id)
        self.model_digest = model.digest
        self.order = rater_order(list(database.faces()), database.definition.seed, self.rater, database.repeats())
        self._clock = clock
        self.current: StudyFace | None = None
        self.paused = False
        self._shown_at = ""
        self._shown_clock = 0.0
        self._paused_since = 0.0
        self._paused_total = 0.0
        self.advance()

    @property
    def total(self) -> int:
        return len(self.order)

    @property
    def done(self) -> int:
        """Faces this rater has a standing vote on (read from disk, so other sessions count)."""
        return len(self._voted())

    @property
    def finished(self) -> bool:
        return self.current is None

    def advance(self) -> StudyFace | None:
        """Show the first face in this rater's order without a standing vote; None when all are done."""
        voted = self._voted()
        self.current = next((self.database.face(face_id) for face_id in self.order if face_id not in voted), None)
        self._start_timing()
        return self.current

    def vote(self, choice: str) -> StudyFace | None:
        """Record ``choice`` for the face on screen (committed to disk), then move to the next face."""
        if self.current is None:
            raise FaceExplorerError("this rater has judged every face of the study")
        if self.paused:
            raise FaceExplorerError("the session is paused; resume it before voting")
        self.database.record_vote(
            self.rater,
            self.current.face_id,
            choice,
            self._shown_at,
            utc_now(),
            self.decision_ms(),
            self.model_digest,
        )
        return self.advance()

    def undo(self) -> Vote | None:
        """Take back this rater's last vote and show that face again (timing restarts)."""
        if self.paused:
            raise FaceExplorerError("the session is paused; resume it before undoing")
        undone = self.database.undo_last_vote(self.rater)
        if undone is not None:
            self.current = self.database.face(undone.face_id)
            self._start_timing()
        return undone

    def pause(self) -> None:
        if not self.paused:
            self.paused = True
            self._paused_since = self._clock()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._paused_total += self._clock() - self._paused_since

    def decision_ms(self) -> int:
        """Time the current face has been on screen, pauses left out."""
        paused = self._paused_total + (self._clock() - self._paused_since if self.paused else 0.0)
        return max(0, round((self._clock() - self._shown_clock - paused) * 1000))

    def _start_timing(self) -> None:
        self._shown_at = utc_now()
        self._shown_clock = self._clock()
        self._paused_total = 0.0
        self._paused_since = self._shown_clock

    def _voted(self) -> set[int]:
        return {vote.face_id for vote in self.database.votes(rater=self.rater)}
