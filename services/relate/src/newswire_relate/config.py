"""Relate settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import StoreSettings
from pydantic import Field

from .domain.stories import StoryParams
from .domain.story_tuning import TUNED


class RelateSettings(StoreSettings):
    """What the relate service reads from the environment."""

    service_name: ClassVar[str] = "relate"

    relate_port: int = Field(
        default=8083, description="Port of relate's /healthz, /readyz, /metrics."
    )

    relate_batch_size: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="Most messages handled at once. Refresh requests for the same article or "
        "story within a batch are handled once, so a backlog costs less per article.",
    )

    relate_idle_rewrite_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="While no batch runs, how often relate looks for documents it wrote whose "
        "related articles or story changed since (as other instances' articles arrive), to "
        "write them again.",
    )

    relate_defer_refreshes: bool = Field(
        default=True,
        description="Refresh the older articles and stories that new articles change once per "
        "offset commit (NEWSWIRE_KAFKA_COMMIT_INTERVAL_MS), for every article handled since, "
        "rather than after each batch: an older article that several arrivals change is "
        "written and published once. Done before the offsets are committed, so a crash loses "
        "none; their lists lag the new article's own by up to the interval.",
    )

    # Story settings: the defaults are learned by bench/tune_stories.py (topic-wise
    # cross-validation on the dev corpora) and written to domain/story_tuning.py.
    relate_story_join_min: float = Field(
        default=TUNED["join_min"],
        ge=0,
        le=1,
        description="An article joins the story it matches best (centroid and entity words) at "
        "this similarity or more; else it starts a story.",
    )
    relate_story_entity_words: float = Field(
        default=TUNED["tokens"],
        ge=0,
        le=1,
        description="Weight of the entity-word signature (who, where) in an article's match with "
        "a story; the TF-IDF centroid has the rest.",
    )
    relate_story_split_max: float = Field(
        default=TUNED["split_max"],
        ge=-1,
        le=1,
        description="A story is cut in two when its two halves (2-means) are less alike than "
        "this (-1: never).",
    )
    relate_story_split_min_size: int = Field(
        default=int(TUNED["split_min_size"]),
        ge=2,
        description="Smallest half a story split may leave.",
    )
    relate_story_merge_min: float = Field(
        default=TUNED["merge_min"],
        ge=0,
        description="Two stories merge when their wholes are at least this alike (> 1: never).",
    )
    relate_story_decay_days: float = Field(
        default=TUNED["decay_days"],
        ge=0,
        description="Days over which a match with a story fades with the time between them "
        "(publication times only; 0: no time term).",
    )
    relate_story_reach_days: float = Field(
        default=TUNED["reach_days"],
        ge=0,
        description="How far back (days) an article looks for its story beyond the 14-day "
        "relation window (publication times only; 0: not beyond it).",
    )

    def story_params(self) -> StoryParams:
        tokens = self.relate_story_entity_words
        return StoryParams(
            join_min=self.relate_story_join_min,
            text=round(1 - tokens, 3),
            tokens=tokens,
            split_max=self.relate_story_split_max,
            split_min_size=self.relate_story_split_min_size,
            merge_min=self.relate_story_merge_min,
            decay_days=self.relate_story_decay_days,
            reach_days=self.relate_story_reach_days,
        )
