"""Language identification with lingua."""

from __future__ import annotations

from lingua import LanguageDetector, LanguageDetectorBuilder

from newswire_enrich.domain.enrichment import DetectedLanguage

__all__ = ["LanguageIdentifier"]

# Detection cost grows with length. A prefix settles almost every article: on the two dev
# corpora (1,155 articles) 400 characters and 600 gave the same languages with the same three
# unsure answers, in 1.5 ms against 2.2 (at 200, six were unsure and four changed). An unsure
# answer is asked again of more text, which gains nothing past a few thousand characters.
_PREFIX_CHARS = 400
_SURE = 0.9
_SAMPLE_CHARS = 3_000


class LanguageIdentifier:
    """Detects the language of article text among all of lingua's 75 languages.

    Low-accuracy mode keeps memory near 80 MB and a call near 5 ms; it only loses
    accuracy on texts of a few words, which articles are not.
    """

    def __init__(self, detector: LanguageDetector | None = None) -> None:
        self._detector = detector or (
            LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
        )

    def detect(self, text: str) -> DetectedLanguage | None:
        """The most likely language, or None when the text has no letters to go on."""
        found = self._detect(text[:_PREFIX_CHARS])
        if (found is None or found.confidence < _SURE) and len(text) > _PREFIX_CHARS:
            found = self._detect(text[:_SAMPLE_CHARS])
        return found

    def _detect(self, sample: str) -> DetectedLanguage | None:
        if not any(ch.isalpha() for ch in sample):
            return None
        values = self._detector.compute_language_confidence_values(sample)
        if not values or values[0].value <= 0.0:
            return None
        best = values[0]
        return DetectedLanguage(best.language.iso_code_639_1.name.lower(), round(best.value, 4))
