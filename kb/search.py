"""Knowledge-base search for customers, the answer bot and agent suggestions.

Each published article is indexed as several short documents, its title and each question
phrasing, plus one long document, its body. Terms are jieba words, Chinese character bigrams
and English stems and character trigrams (`kb.text.search_terms`); the body gets bigrams,
stems and trigrams only, since segmenting every body with jieba would make a rebuild slow
and bigrams already find Chinese words in long text.

Ranking is BM25: an article scores its best phrasing plus a share of its body. The BM25
weights are precomputed into sparse matrices, so a query is a column slice and a sum (a few
milliseconds for 10,000 articles). `confidence` (0 … 1) is the cosine between the query and
the best phrasing of the article in TF-IDF space: unlike a BM25 score it does not grow with
the query's length, so one per-channel threshold means the same for a short and a long
question, and the bot compares it with that threshold.

The index is held per process and rebuilt when the "kb" revision moves (`RevisionCache`);
tokens of unchanged articles are kept between rebuilds.
"""

import math
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from kb.rendering import plain_text, snippet
from kb.synonyms import EXPANSION_WEIGHT, expansions
from kb.text import (
    STOPWORDS_EN,
    STOPWORDS_ZH,
    dictionary_sync,
    has_chinese,
    normalise,
    runs,
    search_terms,
    segmenter,
)
from kefu.revisions import RevisionCache

# Weights of the term families: a whole word says more than a bigram, a trigram (there for
# typos) least.
FAMILY_WEIGHTS = {"w": 1.0, "c": 0.5, "t": 0.3}
BODY_WEIGHT = 0.3
K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Hit:
    article_id: int
    title: str
    snippet: str
    answer: str  # the body as plain text, ready to send or to insert into a reply
    score: float  # BM25 (unbounded; for ordering)
    confidence: float  # 0 … 1: cosine with the best-matching phrasing
    question: str = ""  # the phrasing that matched best
    language: str = ""
    kind: str = ""


@dataclass(frozen=True)
class IndexEntry:
    article_id: int
    title: str
    questions: list[str]
    body: str  # plain text
    language: str = ""
    kind: str = "faq"
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Tokens:
    phrasings: list[list[str]]
    body: list[str]


def entry_tokens(entry: IndexEntry) -> _Tokens:
    phrasings = [entry.title, *entry.questions]
    seen: set[str] = set()
    unique = []
    for phrasing in phrasings:
        key = normalise(phrasing)
        if key and key not in seen:
            seen.add(key)
            unique.append(phrasing)
    tags = " ".join(entry.tags)
    return _Tokens(
        phrasings=[search_terms(p) for p in unique] or [[]],
        body=search_terms(f"{entry.body} {tags}", chinese_words=False),
    )


def _weight(term: str) -> float:
    return FAMILY_WEIGHTS.get(term[0], 1.0)


def _bm25_matrix(
    documents: list[Counter[str]], vocabulary: dict[str, int]
) -> tuple[sparse.csc_matrix, np.ndarray]:
    n_docs = len(documents)
    df = np.zeros(len(vocabulary), dtype=np.float64)
    for document in documents:
        for term in document:
            df[vocabulary[term]] += 1
    idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    lengths = np.array([sum(d.values()) for d in documents], dtype=np.float64)
    average = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for document, length in zip(documents, lengths, strict=True):
        norm = K1 * (1 - B + B * length / average)
        for term, tf in document.items():
            column = vocabulary[term]
            indices.append(column)
            data.append(idf[column] * _weight(term) * tf * (K1 + 1) / (tf + norm))
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (np.asarray(data), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
        shape=(n_docs, len(vocabulary)),
    )
    return matrix.tocsc(), idf


def _cosine_matrix(
    documents: list[Counter[str]], vocabulary: dict[str, int], idf: np.ndarray
) -> sparse.csr_matrix:
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for document in documents:
        values = [
            (vocabulary[term], (1 + math.log(tf)) * idf[vocabulary[term]] * _weight(term))
            for term, tf in document.items()
        ]
        norm = math.sqrt(sum(v * v for _c, v in values)) or 1.0
        for column, value in values:
            indices.append(column)
            data.append(value / norm)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
        shape=(len(documents), len(vocabulary)),
    )


class SearchIndex:
    """An immutable index over `IndexEntry`s; build it once, query it from any thread."""

    def __init__(self, entries: Sequence[IndexEntry], tokens: Sequence[_Tokens]) -> None:
        self.entries = list(entries)
        self.article_ids = np.array([e.article_id for e in self.entries], dtype=np.int64)
        self.languages = np.array([e.language for e in self.entries], dtype=object)
        phrasing_docs: list[Counter[str]] = []
        phrasing_owner: list[int] = []
        self.phrasing_text: list[str] = []
        body_docs: list[Counter[str]] = []
        vocabulary: dict[str, int] = {}
        for position, (entry, entry_tokens_) in enumerate(zip(entries, tokens, strict=True)):
            texts = [entry.title, *entry.questions]
            for index, terms in enumerate(entry_tokens_.phrasings):
                counted = Counter(terms)
                for term in counted:
                    vocabulary.setdefault(term, len(vocabulary))
                phrasing_docs.append(counted)
                phrasing_owner.append(position)
                self.phrasing_text.append(texts[index] if index < len(texts) else entry.title)
            counted_body = Counter(entry_tokens_.body)
            for term in counted_body:
                vocabulary.setdefault(term, len(vocabulary))
            body_docs.append(counted_body)
        self.vocabulary = vocabulary
        self.phrasing_owner = np.array(phrasing_owner, dtype=np.int64)
        self.phrasings, self.phrasing_idf = _bm25_matrix(phrasing_docs, vocabulary)
        self.bodies, _body_idf = _bm25_matrix(body_docs, vocabulary)
        self.cosine = _cosine_matrix(phrasing_docs, vocabulary, self.phrasing_idf)
        self.rows_of: list[list[int]] = [[] for _ in self.entries]
        for row, owner in enumerate(phrasing_owner):
            self.rows_of[owner].append(row)

    @classmethod
    def build(cls, entries: Sequence[IndexEntry]) -> "SearchIndex":
        return cls(entries, [entry_tokens(entry) for entry in entries])

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, *, language: str | None = None, limit: int = 5) -> list[Hit]:
        if not self.entries or limit <= 0:
            return []
        counted = Counter(search_terms(query))
        weights: dict[str, float] = {t: float(tf) for t, tf in counted.items()}
        for term in search_terms(" ".join(expansions(query))):
            # Words and Chinese bigrams (jieba cuts "开发票" as 开发/票: only the bigram 发票
            # finds it); not English trigrams, which would match half the index.
            if not term.startswith("t:") and term not in weights:
                weights[term] = EXPANSION_WEIGHT
        known = [(self.vocabulary[t], w, t) for t, w in weights.items() if t in self.vocabulary]
        if not known:
            return []
        columns = np.array([column for column, _w, _t in known], dtype=np.int64)
        multiplicity = np.array([w for _c, w, _t in known], dtype=np.float64)
        phrasing_scores = self.phrasings[:, columns] @ multiplicity
        best = np.zeros(len(self.entries), dtype=np.float64)
        np.maximum.at(best, self.phrasing_owner, phrasing_scores)
        scores = best + BODY_WEIGHT * (self.bodies[:, columns] @ multiplicity)
        if language:
            scores[self.languages != language] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if candidates.size == 0:
            return []
        if candidates.size > limit:
            top = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        else:
            top = candidates
        top = top[np.lexsort((self.article_ids[top], -scores[top]))]
        plain, plain_norm = self._query_vector(counted, {})
        expanded, expanded_norm = self._query_vector(counted, weights)
        hits: list[Hit] = []
        words = _display_words(query)
        for position in top:
            entry = self.entries[int(position)]
            rows = self.rows_of[int(position)]
            # The question as asked, or with its synonyms, whichever is closer.
            similarities = np.maximum(
                self.cosine[rows] @ plain / plain_norm,
                self.cosine[rows] @ expanded / expanded_norm,
            )
            best_row = int(np.argmax(similarities))
            hits.append(
                Hit(
                    article_id=entry.article_id,
                    title=entry.title,
                    snippet=snippet(entry.body, words),
                    answer=entry.body,
                    score=round(float(scores[position]), 4),
                    confidence=round(float(similarities[best_row]), 4),
                    question=self.phrasing_text[rows[best_row]],
                    language=entry.language,
                    kind=entry.kind,
                )
            )
        return hits

    def _query_vector(
        self, counted: Counter[str], weights: dict[str, float]
    ) -> tuple[np.ndarray, float]:
        """The query in the cosine space, and its norm. Own terms count by their frequency,
        expansion terms (in `weights`, not in `counted`) at their weight. The norm includes
        terms the index has never seen (at the largest idf): words no entry has make the
        question less like every entry, not more."""
        vector = np.zeros(len(self.vocabulary), dtype=np.float64)
        unseen = 0.0
        top_idf = float(self.phrasing_idf.max()) if len(self.phrasing_idf) else 1.0
        terms = {t: 1 + math.log(tf) for t, tf in counted.items()}
        for term, weight in weights.items():
            terms.setdefault(term, weight)
        for term, weight in terms.items():
            column = self.vocabulary.get(term)
            if column is None:
                if term in counted:
                    unseen += (weight * top_idf * _weight(term)) ** 2
                continue
            vector[column] = weight * self.phrasing_idf[column] * _weight(term)
        return vector, math.sqrt(float(vector @ vector) + unseen) or 1.0


def _display_words(query: str) -> list[str]:
    """Query words as they appear in text, for picking a snippet."""
    words: list[str] = []
    for run in runs(normalise(query)):
        if has_chinese(run):
            words.extend(
                w for w in segmenter.cut(run, hmm=False) if len(w) >= 2 and w not in STOPWORDS_ZH
            )
        elif len(run) >= 3 and run not in STOPWORDS_EN:
            words.append(run)
    return words


# --- the process's index over the database ------------------------------------------------


class _IndexBuilder:
    """Builds the index from the database, re-tokenising only articles that changed."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[int, int], tuple[IndexEntry, _Tokens]] = {}
        self._lock = threading.Lock()
        self.last_build_seconds = 0.0

    def __call__(self) -> SearchIndex:
        from kb import selectors

        started = time.perf_counter()
        with self._lock:
            if dictionary_sync(selectors.dictionary_words()):
                self._tokens.clear()  # words are cut differently now
            fresh: dict[tuple[int, int], tuple[IndexEntry, _Tokens]] = {}
            for row in selectors.index_rows():
                key = (row.article_id, row.version)
                known = self._tokens.get(key)
                if known is None:
                    entry = IndexEntry(
                        article_id=row.article_id,
                        title=row.title,
                        questions=row.questions,
                        body=plain_text(row.body),
                        language=row.language,
                        kind=row.kind,
                        tags=row.tags,
                    )
                    known = (entry, entry_tokens(entry))
                fresh[key] = known
            self._tokens = fresh
            pairs = list(fresh.values())
            index = SearchIndex([e for e, _t in pairs], [t for _e, t in pairs])
            self.last_build_seconds = time.perf_counter() - started
            return index

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


_builder = _IndexBuilder()
index_cache: RevisionCache[SearchIndex] = RevisionCache(("kb",), _builder)


def index_reset() -> None:
    """Forget the process's index and its token cache (tests, after a bulk import)."""
    index_cache.clear()
    _builder.clear()


def search(query: str, *, language: str | None = None, limit: int = 5) -> list[Hit]:
    """Published articles for `query`, best first. `language` (`zh-hans`/`en`) restricts the
    results to articles in that language."""
    if not query or not query.strip():
        return []
    return index_cache.get().search(query, language=language, limit=limit)


def suggest_for(text: str, limit: int = 3) -> list[Hit]:
    """Articles to suggest to an agent for a customer's message (its first 1,000 characters:
    the question is rarely further down)."""
    return search(text[:1000], limit=limit)
