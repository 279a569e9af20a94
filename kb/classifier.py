"""Text classifiers for triage: training with scikit-learn, prediction with numpy alone.

Training fits a TF-IDF vectoriser over `kb.text.classifier_features` (jieba words, word
bigrams, negation marks, character 1-3-grams) and a logistic regression, which gives class
probabilities without a separate calibration step. On larger sets (2,000 rows or more) the
TF-IDF vector is extended with its 200-dimensional latent semantic projection (a truncated SVD
of the 20,000 most frequent features): it lets words that occur in the same reviews share
weight, which sparse n-grams alone cannot (ChnSentiCorp: +0.3 % in cross-validation, +0.8 % on
the held-out split). The fitted vocabulary, idf weights and
coefficients are then copied into a `LinearTextModel`, which predicts with a dictionary look-up
and one small matrix product: about a millisecond per message on one core, and no
scikit-learn object (nor pickle) is stored or loaded at run time.

Serialised models are a NumPy `.npz` archive (`np.load(allow_pickle=False)`): loading a model
from the database cannot run code.
"""

import io
import json
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from kb.text import classifier_features

FORMAT_VERSION = 1
HELD_OUT_SHARE = 0.2
SEED = 0
LSA_MIN_ROWS = 2000
LSA_FEATURES = 20_000
LSA_COMPONENTS = 200
LSA_WEIGHT = 0.5


@dataclass(frozen=True)
class TermCounts:
    """A text's features, each once, with its sublinear term frequency (1 + log count), as
    TF-IDF with `sublinear_tf` weighs it. Counted once per text and shared by the models that
    classify it."""

    terms: list[str]
    tf: np.ndarray  # (len(terms),)

    @classmethod
    def of(cls, features: Iterable[str]) -> "TermCounts":
        counts = Counter(features)
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        np.log(tf, out=tf)
        tf += 1.0
        return cls(terms=list(counts), tf=tf)


@dataclass
class LinearTextModel:
    labels: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_labels, n_features), or (1, n_features) for two labels
    intercept: np.ndarray  # (n_labels,) or (1,)
    # The latent projection, when trained with one: the position of each feature among the
    # projected ones (-1: not projected), the SVD components and their coefficients.
    lsa_position: np.ndarray | None = None  # (n_features,) int
    lsa_components: np.ndarray | None = None  # (n_components, n_projected)
    lsa_coef: np.ndarray | None = None  # (n_labels or 1, n_components)

    def __post_init__(self) -> None:
        # A text touches a few hundred of the features: keep each feature's coefficients and
        # latent components together in memory (row-major by feature), so that gathering
        # them reads a few contiguous rows rather than one scattered value per label or
        # component. `coef` and `lsa_components` stay available in their usual shape, as
        # views of these.
        self._coef_rows = np.ascontiguousarray(self.coef.T, dtype=np.float64)
        self.coef = self._coef_rows.T
        self._lsa_rows: np.ndarray | None = None
        if self.lsa_components is not None:
            self._lsa_rows = np.ascontiguousarray(self.lsa_components.T, dtype=np.float64)
            self.lsa_components = self._lsa_rows.T

    def probabilities(self, text: str) -> dict[str, float]:
        """Probability of each label for `text` (they sum to 1)."""
        return self.probabilities_of(classifier_features(text))

    def probabilities_of(self, features: list[str] | TermCounts) -> dict[str, float]:
        """Probability of each label for a text's `classifier_features`, or for those features
        already counted (`TermCounts.of`, once when several models classify the same text)."""
        counts = features if isinstance(features, TermCounts) else TermCounts.of(features)
        decision = self.intercept.astype(np.float64)
        # One C-level pass over the distinct features instead of a Python loop: the look-ups
        # in a vocabulary of a few hundred thousand terms are most of a long message's time.
        columns = np.fromiter(
            map(self.vocabulary.get, counts.terms, repeat(-1)),
            dtype=np.intp,
            count=len(counts.terms),
        )
        known = columns >= 0
        if known.any():
            index = columns[known]
            values = counts.tf[known] * self.idf[index]
            norm = float(np.sqrt(values @ values))
            if norm > 0:
                values /= norm
            decision = decision + values @ self._coef_rows[index]
            if self.lsa_position is not None and self._lsa_rows is not None:
                positions = self.lsa_position[index]
                projected = positions >= 0
                latent = values[projected] @ self._lsa_rows[positions[projected]]
                size = float(np.sqrt(latent @ latent))
                if size > 0 and self.lsa_coef is not None:
                    decision = decision + self.lsa_coef @ (latent / size * LSA_WEIGHT)
        if len(self.labels) == 2:
            positive = 1.0 / (1.0 + math.exp(-float(decision[0])))
            return {self.labels[0]: 1.0 - positive, self.labels[1]: positive}
        shifted = np.exp(decision - decision.max())
        shares = shifted / shifted.sum()
        return {label: float(share) for label, share in zip(self.labels, shares, strict=True)}

    def predict(self, text: str) -> tuple[str, float]:
        """The most probable label and its probability."""
        probabilities = self.probabilities(text)
        label = max(probabilities, key=lambda name: probabilities[name])
        return label, probabilities[label]

    # --- storage ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {"format": FORMAT_VERSION, "labels": self.labels}
        arrays = {
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            # normalise() turns every whitespace run into one space, so no feature holds "\n".
            "terms": np.frombuffer("\n".join(terms).encode(), dtype=np.uint8),
            "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
        }
        if (
            self.lsa_position is not None
            and self.lsa_components is not None
            and self.lsa_coef is not None
        ):
            arrays["lsa_position"] = self.lsa_position.astype(np.int32)
            # Half precision halves the largest array; the projection is normalised after.
            arrays["lsa_components"] = self.lsa_components.astype(np.float16)
            arrays["lsa_coef"] = self.lsa_coef.astype(np.float32)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> "LinearTextModel":
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            meta = json.loads(archive["meta"].tobytes().decode())
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"unknown model format {meta.get('format')!r}")
            text = archive["terms"].tobytes().decode()
            terms = text.split("\n") if text else []
            has_lsa = "lsa_components" in archive.files
            return cls(
                labels=list(meta["labels"]),
                vocabulary={term: column for column, term in enumerate(terms)},
                idf=archive["idf"].astype(np.float64),
                # Converted straight into the feature-major layout (see __post_init__).
                coef=archive["coef"].T.astype(np.float64, order="C").T,
                intercept=archive["intercept"],
                lsa_position=archive["lsa_position"].astype(np.int64) if has_lsa else None,
                lsa_components=(
                    archive["lsa_components"].T.astype(np.float64, order="C").T if has_lsa else None
                ),
                lsa_coef=archive["lsa_coef"].astype(np.float64) if has_lsa else None,
            )


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    macro_f1: float
    n_train: int
    n_test: int
    ms_per_message_p50: float
    ms_per_message_p99: float
    per_label_f1: dict[str, float] = field(default_factory=dict)

    def as_metrics(self) -> dict[str, object]:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "ms_per_message_p50": self.ms_per_message_p50,
            "ms_per_message_p99": self.ms_per_message_p99,
            "per_label_f1": self.per_label_f1,
        }


@dataclass(frozen=True)
class FittedPipeline:
    """The scikit-learn objects of one training run. `linear_model()` copies what prediction
    needs into a `LinearTextModel`; `predict_proba` is the reference it must agree with."""

    vectoriser: Any  # TfidfVectorizer
    classifier: Any  # LogisticRegression
    svd: Any | None = None  # TruncatedSVD, when trained with a latent projection
    projected: np.ndarray | None = None  # the feature columns the projection takes

    def matrix(self, texts: Sequence[str]) -> Any:
        """The rows the classifier sees for `texts`, built as in training."""
        matrix = self.vectoriser.transform([classifier_features(text) for text in texts])
        if self.svd is None:
            return matrix
        from scipy import sparse
        from sklearn.preprocessing import normalize

        latent = self.svd.transform(matrix[:, self.projected])
        return sparse.hstack([matrix, LSA_WEIGHT * normalize(latent)]).tocsr()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """scikit-learn's probabilities, one row per text, columns in `classifier.classes_`."""
        return np.asarray(self.classifier.predict_proba(self.matrix(texts)))

    def linear_model(self) -> LinearTextModel:
        n_features = len(self.vectoriser.vocabulary_)
        coef = np.asarray(self.classifier.coef_, dtype=np.float64)
        lsa_position = lsa_components = None
        if self.svd is not None and self.projected is not None:
            lsa_position = np.full(n_features, -1, dtype=np.int64)
            lsa_position[self.projected] = np.arange(len(self.projected))
            lsa_components = np.asarray(self.svd.components_, dtype=np.float64)
        return LinearTextModel(
            labels=[str(label) for label in self.classifier.classes_],
            vocabulary={
                str(term): int(column) for term, column in self.vectoriser.vocabulary_.items()
            },
            idf=np.asarray(self.vectoriser.idf_, dtype=np.float64),
            coef=coef[:, :n_features],
            intercept=np.asarray(self.classifier.intercept_, dtype=np.float64),
            lsa_position=lsa_position,
            lsa_components=lsa_components,
            lsa_coef=coef[:, n_features:] if lsa_components is not None else None,
        )


def fit(texts: Sequence[str], labels: Sequence[str]) -> LinearTextModel:
    """Train on all of `texts`. Needs at least two distinct labels."""
    return fit_pipeline(texts, labels).linear_model()


def fit_pipeline(texts: Sequence[str], labels: Sequence[str]) -> FittedPipeline:
    """Train the scikit-learn pipeline on all of `texts` (see `fit`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    distinct = sorted(set(labels))
    if len(distinct) < 2:
        raise ValueError("training needs at least two different labels")
    features = [classifier_features(text) for text in texts]
    # Features seen once are mostly noise (a typo, a single product code) and would swell the
    # stored model; on small sets every feature counts.
    min_df = 2 if len(texts) >= 2000 else 1
    vectoriser = TfidfVectorizer(
        analyzer=_identity, sublinear_tf=True, min_df=min_df, max_features=400_000
    )
    matrix = vectoriser.fit_transform(features)
    n_features = matrix.shape[1]
    svd = projected = None
    if len(texts) >= LSA_MIN_ROWS and n_features >= 4 * LSA_COMPONENTS:
        from scipy import sparse
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import normalize

        frequency = np.asarray((matrix > 0).sum(axis=0)).ravel()
        projected = np.sort(np.argsort(-frequency, kind="stable")[:LSA_FEATURES])
        svd = TruncatedSVD(n_components=LSA_COMPONENTS, random_state=SEED)
        latent = svd.fit_transform(matrix[:, projected])
        matrix = sparse.hstack([matrix, LSA_WEIGHT * normalize(latent)]).tocsr()
    if len(distinct) == 2:
        model = LogisticRegression(C=30.0, solver="liblinear")
    else:
        model = LogisticRegression(C=30.0, max_iter=1000)
    model.fit(matrix, list(labels))
    return FittedPipeline(vectoriser=vectoriser, classifier=model, svd=svd, projected=projected)


def _identity(features: list[str]) -> list[str]:
    return features


def stratified_split(
    labels: Sequence[str], *, test_share: float = HELD_OUT_SHARE, seed: int = SEED
) -> tuple[list[int], list[int]]:
    """Row indexes (train, test) with each label in both parts in proportion.

    The same split as scikit-learn's `train_test_split(stratify=labels, random_state=seed)`
    where that is defined; labels with a single example (which it refuses) go to training.
    """
    from sklearn.model_selection import train_test_split

    counts = Counter(labels)
    splittable = [i for i, label in enumerate(labels) if counts[label] >= 2]
    singles = [i for i, label in enumerate(labels) if counts[label] < 2]
    strata = [labels[i] for i in splittable]
    n_test = math.ceil(len(splittable) * test_share)
    if n_test >= len(set(strata)) and len(splittable) - n_test >= len(set(strata)):
        train, test = train_test_split(
            splittable, test_size=test_share, stratify=strata, random_state=seed
        )
        return sorted(list(train) + singles), sorted(test)
    # Too few rows for scikit-learn's stratifier: take a share of each label by hand.
    rng = random.Random(seed)
    train_rows, test_rows = list(singles), []
    by_label: dict[str, list[int]] = {}
    for index in splittable:
        by_label.setdefault(labels[index], []).append(index)
    for rows in by_label.values():
        rng.shuffle(rows)
        take = max(1, round(len(rows) * test_share))
        test_rows.extend(rows[:take])
        train_rows.extend(rows[take:])
    return sorted(train_rows), sorted(test_rows)


def evaluate(
    model: LinearTextModel, texts: Sequence[str], labels: Sequence[str], *, n_train: int
) -> Evaluation:
    """Accuracy, macro-F1 and the time per message, predicting one message at a time."""
    from sklearn.metrics import accuracy_score, f1_score

    predicted: list[str] = []
    timings: list[float] = []
    for text in texts:
        started = time.perf_counter()
        label, _confidence = model.predict(text)
        timings.append((time.perf_counter() - started) * 1000)
        predicted.append(label)
    if not texts:
        return Evaluation(0.0, 0.0, n_train, 0, 0.0, 0.0)
    truth = [str(label) for label in labels]
    names = sorted(set(truth) | set(predicted))
    per_label = f1_score(truth, predicted, labels=names, average=None, zero_division=0)
    return Evaluation(
        accuracy=round(float(accuracy_score(truth, predicted)), 4),
        macro_f1=round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        n_train=n_train,
        n_test=len(texts),
        ms_per_message_p50=round(statistics.median(timings), 3),
        ms_per_message_p99=round(percentile(timings, 99), 3),
        per_label_f1={
            name: round(float(score), 4) for name, score in zip(names, per_label, strict=True)
        },
    )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..100)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return float(ordered[rank - 1])


def train_and_evaluate(
    texts: Sequence[str], labels: Sequence[str]
) -> tuple[LinearTextModel, Evaluation]:
    """Train on a stratified 80 % and evaluate on the held-out 20 % (seed 0).

    The returned model is the one trained on the 80 %: its figures are then true of the model
    that is stored, and a later model can be compared with it on the same held-out rows.
    """
    train_rows, test_rows = stratified_split(labels)
    model = fit([texts[i] for i in train_rows], [labels[i] for i in train_rows])
    evaluation = evaluate(
        model,
        [texts[i] for i in test_rows],
        [labels[i] for i in test_rows],
        n_train=len(train_rows),
    )
    return model, evaluation
