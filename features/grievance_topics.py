"""Topics of calls that name no thing: the same complaint said in different words, grouped in a district.

Many residents calling about "the rubbish station at the gate that stinks" name no company, project or
estate, so `features.grievances` cannot key them. `topic_groups(calls, config)` groups such calls by
the similarity of their texts, within each district, and names each group by its most distinctive
words.

**Texts.** The mask tokens ingest writes for phones, ID numbers and names (`contracts.masks`), the
hotline's boilerplate (BOILERPLATE: 市民来电反映, 请相关部门核实处理 ...), digits, Latin letters and
punctuation are taken out; what is left are runs of Chinese characters. A text left empty (boilerplate
only) or missing, or a call without a district, joins nothing. The calls of a district with the same
remaining text are one document.

**Similarity.** A document is the vector of the character n-grams (`ngram_range`) of its runs, TF-IDF
weighted (sublinear counts, document frequencies over the whole input, unit length). Stop n-grams are
learned from the data: an n-gram held by at least `stop_share` of the documents in more than half the
(district, calendar week) cells of at least `stop_cell_texts` documents is everyday hotline language,
not a topic; one frequent in a single district, or in a few weeks, is kept: it may be that district's
new grievance (in a city of one district, a complaint steady for weeks becomes stop words too). Without
a cell that large (a small input) only BOILERPLATE is left out. Within a district, the n-grams held by
one of its documents link nothing and are left out of its vectors; two documents are neighbours when
their cosine is at least `similarity` (sparse products in row blocks).

**Groups** (per district). Butina's clustering first (Butina 1999, sparse neighbour lists): documents in
decreasing order of the calls around them (their neighbours' and their own); each one not yet taken
with at least `min_neighbours` calls around it starts a star of its untaken neighbours. Every member of
a star is alike its seed, so one text about two complaints cannot chain them. Stars of one complaint
said in different ways are then joined the way density peaks are (Rodriguez & Laio 2014): each star
joins the group of the most similar star started before it, when their call-weighted centroids are at
least `similarity` alike; a star of texts that mix two complaints joins one of them and never links the
two. A group is kept when its calls come from at least `min_group_size` distinct callers (a call
without a caller counts as its own caller). A district with more than `max_texts` documents groups only
its most recent `max_texts` (by their last call): the time grows about with its square.

**Keys and labels.** A group's words are jieba's dictionary words (HMM off, as in
`features.text_words`) of two or more characters with a tag of WORD_TAGS (nouns, verbs, adjectives,
idioms, places, times: never a person's name nor a numeral), not stop words, held by the texts of at
least `min_group_size` distinct callers (one caller's details never show). A word's weight is the share
of the group's calls holding it times its inverse document frequency (a word's document frequency is
that of its rarest n-gram: exact for words of an n-gram's length); a word inside a heavier chosen one,
or holding it, is skipped (垃圾 after 垃圾站). The key is KEY_PREFIX + the `key_terms` heaviest words held
by at least `key_share` of the group's calls (the heaviest word when none is), in character order
("话题:垃圾站·臭味"): words most callers use are the topic's core, stable from one day's lookback to
the next, while rarer ones come and go. Groups of a district with one key are one group; its label is
its `label_terms` heaviest words, heaviest first ("垃圾站、臭味、夏天"), never a text. A group without
such a word is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.preprocessing import normalize

from contracts.masks import MASK_REGEX
from contracts.segmenter import tokenizer, word_tags

KEY_PREFIX = "话题:"
KEY_SEPARATOR = "·"
LABEL_SEPARATOR = "、"
COLUMNS: tuple[str, ...] = ("pos", "key", "label")
# What 12345 operators write around every complaint (matched longest first).
BOILERPLATE: tuple[str, ...] = (
    *("市民来电反映", "市民来电称", "市民来电", "来电人反映", "来电人称", "来电人", "来电反映", "来电称"),
    *("群众反映", "市民反映", "诉求人", "联系电话", "来电", "市民", "反映", "诉求"),
    *("请相关部门", "相关部门", "有关部门", "相关单位", "核实处理", "尽快处理", "要求处理", "及时处理"),
    *("妥善处理", "予以处理", "核实情况", "尽快解决", "要求回复", "要求", "希望", "请求", "问题", "情况"),
    *("您好", "你好", "谢谢", "身份证号码", "身份证号", "联系方式", "电话号码", "手机号码", "手机号"),
)
# jieba's tags (prefixes) of the words a key or label may hold: n nouns, v verbs, a adjectives, l and i
# idioms, s places, t times, j abbreviations, z states; never nr, a person's name (also a noun tag).
WORD_TAGS = ("n", "v", "a", "l", "i", "s", "t", "j", "z")
NAME_TAGS = ("nr",)
BLOCK_ROWS = 2048  # rows of one block of sparse products
RUN_CACHE_SIZE = 1 << 16  # runs of characters whose words are kept

_NOT_HAN = r"[^\u4e00-\u9fff]+"
_BOILERPLATE = "|".join(sorted(BOILERPLATE, key=len, reverse=True))


@dataclass(frozen=True)
class TopicConfig:
    """Similarity, grouping and naming of the topics of calls that name no thing."""

    similarity: float = 0.4  # cosine of two texts' n-gram vectors (and of two stars' centroids) to link
    ngram_range: tuple[int, int] = (2, 3)  # lengths of the character n-grams compared
    min_neighbours: int = 3  # calls around a text (its own included) for it to start a star
    min_group_size: int = 3  # distinct callers of a kept group, and of a word in its key or label
    max_texts: int = 20_000  # per district, the most recent distinct texts grouped (time ~ its square)
    stop_share: float = 0.02  # an n-gram in this share of the texts of most district-weeks is a stop word
    stop_cell_texts: int = 200  # ... counting only the district-weeks with at least this many texts
    key_terms: int = 2  # words of the key
    key_share: float = 0.5  # share of the group's calls a word of the key is held by
    label_terms: int = 4  # words of the label

    def __post_init__(self) -> None:
        if not 0 < self.similarity <= 1:
            raise ValueError("similarity must be in (0, 1]")
        low, high = self.ngram_range
        if not 1 <= low <= 2 <= high:
            raise ValueError(
                "ngram_range must be (low, high) with 1 <= low <= 2 <= high (words of two "
                "characters are weighed by their bigram's document frequency)"
            )
        counts = (
            self.min_neighbours,
            self.min_group_size,
            self.max_texts,
            self.stop_cell_texts,
            self.key_terms,
        )
        if min(counts) < 1:
            raise ValueError(
                "min_neighbours, min_group_size, max_texts, stop_cell_texts, key_terms must be positive"
            )
        if not (0 < self.stop_share <= 1 and 0 <= self.key_share <= 1):
            raise ValueError("stop_share must be in (0, 1] and key_share in [0, 1]")
        if self.label_terms < self.key_terms:
            raise ValueError("label_terms must be at least key_terms")


def empty_topics() -> pd.DataFrame:
    """A topic frame without rows."""
    return pd.DataFrame(
        {"pos": pd.Series(dtype=np.int64), "key": pd.Series(dtype=object), "label": pd.Series(dtype=object)}
    )


def content(texts: pd.Series) -> pd.Series:
    """The topic-bearing part of each text: its runs of Chinese characters after the mask tokens and the
    boilerplate are taken out, separated by single spaces ('' for a missing text)."""
    plain = texts.astype("str").fillna("")
    plain = plain.str.replace(MASK_REGEX, " ", regex=True).str.replace(_BOILERPLATE, " ", regex=True)
    return plain.str.replace(_NOT_HAN, " ", regex=True).str.strip()


def _ngrams(document: str, low: int, high: int) -> list[str]:
    """The character n-grams of each run of a document (none across runs)."""
    return [
        run[at : at + n]
        for run in document.split()
        for n in range(low, high + 1)
        for at in range(len(run) - n + 1)
    ]


def _documents(calls: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct (district, content) documents with their last call, and each call's document (-1
    when its text has no content or its district is missing)."""
    frame = pd.DataFrame(
        {
            "district": calls["district"].astype(object).to_numpy(),
            "content": content(calls["text"]).to_numpy(dtype=object),
            "received_at": pd.to_datetime(calls["received_at"]).reset_index(drop=True),
        }
    )
    usable = ((frame["content"] != "") & frame["district"].notna()).to_numpy()
    keys = pd.MultiIndex.from_frame(frame.loc[usable, ["district", "content"]].astype(str))
    found, distinct = pd.factorize(keys, sort=True)
    codes = np.full(len(frame), -1, dtype=np.int64)
    codes[usable] = found
    last = frame.loc[usable, "received_at"].groupby(found).max()
    documents = pd.DataFrame(
        {
            "district": distinct.get_level_values(0).to_numpy(dtype=object),
            "content": distinct.get_level_values(1).to_numpy(dtype=object),
            "last": last.to_numpy(),
        }
    )
    return documents, codes


def _common(presence: sparse.csr_matrix, cells: np.ndarray, share: float, min_texts: int) -> np.ndarray:
    """Per column: whether at least `share` of the rows of more than half the cells of at least
    `min_texts` rows hold it (False everywhere when no cell is that large)."""
    codes, names = pd.factorize(cells)
    sizes = np.bincount(codes, minlength=len(names)).astype(np.float64)
    judged = sizes >= min_texts
    if not judged.any():
        return np.zeros(presence.shape[1], dtype=bool)
    rows = np.flatnonzero(judged[codes])
    owner = sparse.csr_matrix((1 / sizes[codes[rows]], (codes[rows], rows)), shape=(len(names), len(codes)))[
        judged
    ]
    frequent = np.asarray(((owner @ presence) >= share - 1e-9).sum(axis=0)).ravel()
    return frequent > judged.sum() / 2


def _bag(items: list[list[str]]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Counts of each distinct item (columns, in the order first seen) in each list (rows)."""
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    codes, names = pd.factorize(pd.Series(list(chain.from_iterable(items)), dtype=object))
    rows = np.repeat(np.arange(len(items)), lengths)
    counts = sparse.csr_matrix(
        (np.ones(len(codes), np.float32), (rows, codes)), shape=(len(items), len(names))
    )
    counts.sum_duplicates()
    return counts, np.asarray(names, dtype=object)


class _Terms:
    """The documents' n-grams: their TF-IDF vectors (stop n-grams and n-grams of one document left out)
    and the document frequency of each n-gram (infinite for a stop n-gram)."""

    def __init__(self, documents: pd.DataFrame, config: TopicConfig) -> None:
        low, high = config.ngram_range
        counts, names = _bag([_ngrams(d, low, high) for d in documents["content"]])
        presence = (counts > 0).astype(np.float32)
        frequency = np.asarray(presence.sum(axis=0)).ravel()
        last = documents["last"]
        week = (last.dt.tz_localize(None) if last.dt.tz is not None else last).dt.to_period("W")
        cells = (documents["district"].astype(str) + "|" + week.astype(str)).to_numpy()
        stop = _common(presence, cells, config.stop_share, config.stop_cell_texts)
        kept = np.flatnonzero(~stop & (frequency >= 2))
        self.vectors = (
            TfidfTransformer(sublinear_tf=True).fit_transform(counts[:, kept]).astype(np.float32).tocsr()
            if len(kept)
            else sparse.csr_matrix((len(documents), 0), dtype=np.float32)
        )
        self.documents = len(documents)
        self.high = high
        self.frequency = dict(zip(names, np.where(stop, np.inf, frequency), strict=True))

    def word_frequency(self, word: str) -> float:
        """A word's document frequency: that of its rarest n-gram of its length, or of the longest
        length (exact for words of an n-gram's length; infinite for a stop word)."""
        size = min(len(word), self.high)
        return min(self.frequency.get(word[at : at + size], 0.0) for at in range(len(word) - size + 1))


def _similar(vectors: sparse.csr_matrix, similarity: float) -> sparse.csr_matrix:
    """The cosines of the pairs of (unit) rows at least `similarity` alike, the diagonal included."""
    transposed = vectors.T.tocsr()
    blocks = []
    for start in range(0, vectors.shape[0], BLOCK_ROWS):
        product = (vectors[start : start + BLOCK_ROWS] @ transposed).tocsr()
        product.data[product.data < similarity - 1e-6] = 0
        product.eliminate_zeros()
        blocks.append(product)
    return sparse.vstack(blocks, format="csr")


def _stars(similar: sparse.csr_matrix, weight: np.ndarray, min_weight: float) -> np.ndarray:
    """Butina's clustering of the neighbour graph: star of each row (-1: in none), stars numbered in
    the order they start (densest seed first)."""
    around = (similar > 0).astype(np.float64) @ weight
    stars = np.full(len(around), -1, dtype=np.int64)
    count = 0
    for seed in np.lexsort((np.arange(len(around)), -around)):
        if around[seed] < min_weight:
            break
        if stars[seed] < 0:
            members = similar.indices[similar.indptr[seed] : similar.indptr[seed + 1]]
            stars[members[stars[members] < 0]] = count
            count += 1
    return stars


def _joined(
    vectors: sparse.csr_matrix, stars: np.ndarray, weight: np.ndarray, similarity: float
) -> np.ndarray:
    """Each star joined to the group of the most similar earlier star whose centroid is at least
    `similarity` alike: group of each row (-1: none)."""
    member = np.flatnonzero(stars >= 0)
    if len(member) == 0:
        return stars
    count = int(stars.max()) + 1
    owner = sparse.csr_matrix((weight[member], (stars[member], member)), shape=(count, len(stars)))
    earlier = sparse.tril(_similar(normalize(owner @ vectors), similarity), k=-1, format="csr")
    group = np.arange(count)
    for star in np.flatnonzero(np.diff(earlier.indptr)):
        row = slice(earlier.indptr[star], earlier.indptr[star + 1])
        best = np.lexsort((earlier.indices[row], -earlier.data[row]))[0]
        group[star] = group[earlier.indices[row][best]]
    return np.where(stars >= 0, group[np.maximum(stars, 0)], -1)


def _district_groups(vectors: sparse.csr_matrix, weight: np.ndarray, config: TopicConfig) -> np.ndarray:
    """Group of each document of one district (-1: in none). N-grams held by one of its documents link
    nothing and are left out of its vectors."""
    groups = np.full(vectors.shape[0], -1, dtype=np.int64)
    shared = np.flatnonzero(vectors.getnnz(axis=0) >= 2)
    vectors = normalize(vectors[:, shared]) if len(shared) else vectors[:, shared]
    present = np.flatnonzero(vectors.getnnz(axis=1) > 0)
    if len(present):
        vectors, weight = vectors[present], weight[present]
        stars = _stars(_similar(vectors, config.similarity), weight, config.min_neighbours)
        groups[present] = _joined(vectors, stars, weight, config.similarity)
    return groups


def _groups(
    documents: pd.DataFrame, vectors: sparse.csr_matrix, weight: np.ndarray, config: TopicConfig
) -> np.ndarray:
    """Group of each document, numbered across districts (-1: in none); per district only the
    `max_texts` most recent documents are grouped."""
    groups = np.full(len(documents), -1, dtype=np.int64)
    offset = 0
    for _, members in sorted(documents.groupby("district").indices.items()):
        if len(members) > config.max_texts:
            recent = np.argsort(documents["last"].to_numpy()[members], kind="stable")[-config.max_texts :]
            members = np.sort(members[recent])
        found = _district_groups(vectors[members], weight[members], config)
        groups[members] = np.where(found >= 0, found + offset, -1)
        offset += int(found.max()) + 1
    return groups


@lru_cache(maxsize=RUN_CACHE_SIZE)
def _run_words(run: str) -> tuple[str, ...]:
    """The words of a run of Chinese characters that may show in a key or label, each once."""
    tags = word_tags()
    return tuple(
        word
        for word in dict.fromkeys(tokenizer().cut(run, HMM=False))
        if len(word) > 1
        and tags.get(word, "x").startswith(WORD_TAGS)
        and not tags[word].startswith(NAME_TAGS)
    )


def _words(document: str) -> list[str]:
    """The words of a document that may show in a key or label, each once."""
    return list(dict.fromkeys(word for run in document.split() for word in _run_words(run)))


def _indicator(row: np.ndarray, column: np.ndarray, columns: int) -> sparse.csr_matrix:
    """A (max row + 1) x columns matrix counting the (row, column) pairs."""
    return sparse.csr_matrix((np.ones(len(row)), (row, column)), shape=(int(row.max()) + 1, columns))


class _Words:
    """The words of some documents that may show in a key or label, and the words' inverse document
    frequency (NaN for a stop word)."""

    def __init__(self, docs: np.ndarray, documents: pd.DataFrame, terms: _Terms) -> None:
        self.docs = np.unique(docs)
        self.holds, self.names = _bag([_words(d) for d in documents["content"].to_numpy()[self.docs]])
        frequency = np.array([terms.word_frequency(word) for word in self.names], dtype=np.float64)
        self.idf = np.full(len(frequency), np.nan)
        finite = np.isfinite(frequency)
        self.idf[finite] = np.log((1 + terms.documents) / (1 + frequency[finite])) + 1

    def weights(self, rows: pd.DataFrame, min_callers: int) -> pd.DataFrame:
        """Per (group, word) held by the texts of at least min_callers callers of the group (groups
        numbered 0, 1, ...): the share of the group's calls holding it and its weight (that share
        times its inverse document frequency); heaviest first in each group."""
        doc = np.searchsorted(self.docs, rows["doc"].to_numpy())
        group = rows["group"].to_numpy()
        pair, pairs = pd.factorize(pd.MultiIndex.from_arrays([group, rows["voice"]]))
        holders = ((_indicator(pair, doc, len(self.docs)) @ self.holds) > 0).astype(np.float64)
        owner = pairs.get_level_values(0).to_numpy()
        callers = (_indicator(owner, np.arange(len(owner)), len(owner)) @ holders).tocsr()
        calls = (_indicator(group, doc, len(self.docs)) @ self.holds).tocoo()
        enough = np.asarray(callers[calls.row, calls.col]).ravel() >= min_callers
        kept = enough & np.isfinite(self.idf[calls.col])
        row, column = calls.row[kept], calls.col[kept]
        share = calls.data[kept] / np.bincount(group)[row]
        out = pd.DataFrame(
            {"group": row, "word": self.names[column], "share": share, "weight": share * self.idf[column]}
        )
        return out.sort_values(["group", "weight", "word"], ascending=[True, False, True], kind="stable")


def _heaviest(weights: pd.DataFrame, count: int) -> pd.Series:
    """Per group: its `count` heaviest words, none inside another chosen one, heaviest first."""
    chosen: dict[int, list[str]] = {}
    for group, word in zip(weights["group"], weights["word"], strict=True):
        words = chosen.setdefault(group, [])
        if len(words) < count and not any(word in w or w in word for w in words):
            words.append(word)
    return pd.Series(chosen, dtype=object)


def _keys(weights: pd.DataFrame, config: TopicConfig) -> pd.Series:
    """Per group: its key, from its heaviest words held by at least key_share of its calls (its heaviest
    word when none is)."""
    core = (weights["share"] >= config.key_share).to_numpy()
    first = ~weights["group"].duplicated().to_numpy()
    has_core = weights["group"].isin(weights["group"][core]).to_numpy()
    words = _heaviest(weights[core | (first & ~has_core)], config.key_terms)
    return words.map(lambda chosen: KEY_PREFIX + KEY_SEPARATOR.join(sorted(chosen)))


def text_vectors(
    calls: pd.DataFrame, config: TopicConfig = TopicConfig()
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The unit TF-IDF vectors of the calls' distinct (district, text) documents, as topics compare them
    (see the module docstring: stop n-grams and n-grams of one document left out), and each call's row
    among them (-1 when its text has no content or its district is missing). `calls` has `text`,
    `district` and `received_at` (tz-aware)."""
    documents, codes = _documents(calls)
    if documents.empty:
        return sparse.csr_matrix((0, 0), dtype=np.float32), codes
    return _Terms(documents, config).vectors, codes


def topic_groups(calls: pd.DataFrame, config: TopicConfig = TopicConfig()) -> pd.DataFrame:
    """One row per call that falls in a topic group of its district (see the module docstring): `pos`
    (the call's row position in `calls`), `key` (stable and readable: '话题:垃圾站·臭味') and `label`
    (the group's most distinctive words: '垃圾站、臭味、夏天'), by pos. `calls` has `text`, `district`,
    `received_at` (tz-aware) and optionally `caller` (a pseudonymised id, or missing)."""
    if calls.empty:
        return empty_topics()
    documents, codes = _documents(calls)
    if documents.empty:
        return empty_topics()
    weight = np.bincount(codes[codes >= 0], minlength=len(documents)).astype(np.float64)
    terms = _Terms(documents, config)
    groups = _groups(documents, terms.vectors, weight, config)
    pos = np.flatnonzero(codes >= 0)
    pos = pos[groups[codes[pos]] >= 0]
    caller = (
        calls["caller"].to_numpy(dtype=object)[pos] if "caller" in calls.columns else np.full(len(pos), None)
    )
    rows = pd.DataFrame(
        {
            "pos": pos,
            "doc": codes[pos],
            "group": groups[codes[pos]],
            "district": documents["district"].to_numpy()[codes[pos]],
            "voice": [f"call {p}" if pd.isna(c) else f"caller {c}" for p, c in zip(pos, caller, strict=True)],
        }
    )
    voices = rows.groupby("group")["voice"].nunique()
    rows = rows[rows["group"].isin(voices.index[voices >= config.min_group_size])]
    if rows.empty:
        return empty_topics()
    rows = rows.assign(group=pd.factorize(rows["group"])[0])
    words = _Words(rows["doc"].to_numpy(), documents, terms)
    keys = _keys(words.weights(rows, config.min_group_size), config)
    rows = rows.assign(key=keys.reindex(rows["group"]).to_numpy())
    rows = rows[rows["key"].notna()]
    if rows.empty:
        return empty_topics()
    rows = rows.assign(group=pd.factorize(pd.MultiIndex.from_arrays([rows["district"], rows["key"]]))[0])
    labels = _heaviest(words.weights(rows, config.min_group_size), config.label_terms)
    out = rows.assign(label=labels.map(LABEL_SEPARATOR.join).reindex(rows["group"]).to_numpy())
    return out[list(COLUMNS)].sort_values("pos", kind="stable").reset_index(drop=True)
