"""Calls that name nothing, joined to the named grievance they resemble.

On a message board some callers describe a grievance without naming its thing ("老板拖欠工资3个月了，
工友们都找不到人" among calls naming 鑫源建筑公司). `resembling_calls(calls, unnamed, keyed, window,
config)` gives each such call the cluster of named calls it resembles, when it resembles one clearly:

- **Texts** are compared as topics compare them (`features.grievance_topics.text_vectors`: unit TF-IDF
  vectors of character n-grams, boilerplate, masks and stop n-grams left out), without the words that
  name a trade or nothing, no thing in particular (整个小区, 自来水公司: `resembling_mentions`' `nameless`):
  a call sharing only those with a cluster's calls says nothing of which grievance it is about.
- **Candidates.** A call is compared only with the named calls of its own district (the district the call
  was made in) received within `window` of it, and filed under the same hotline category (a call or a
  named call without a category is compared with all).
- **An emerging cluster's other categories** (`emerging`, given the product's level rule). One grievance's
  callers file the same complaint under several categories (征地拆迁 and 住房城乡建设). A cluster that is
  emerging when the call is made (its distinct callers in the `window` before the call are unusual
  against its own usual level, as the product shows a cluster: `grievance_levels.emerging`) also offers
  its texts filed under other categories, when one of its texts filed under the call's category alone is
  alike at `similarity` or more (the category still has to vouch for it). Timing is the evidence: a
  thing nobody named for weeks that many name now is what a call made now, worded like its callers,
  is about; an estate named every week offers only its texts of the call's category (its follow-ups
  filed under 咨询 would else join calls of every category: docs/design/grievance-resemblance.md).
- **Wording particular to one thing.** An n-gram's weight (its TF-IDF over the calls) is also
  multiplied by a smooth inverse of how many named clusters (city-wide, over the calls compared) hold
  it among their calls' texts, as class-based TF-IDF weighs a term by the classes holding it
  (Grootendorst 2022): wording every estate's or company's callers use (物业不管, 工资, 之前已经反映过)
  says little of which thing a call is about, wording only one thing's callers use says much
  (`things_weigh`; wording no named call holds weighs as wording of one, so a city of one named
  cluster compares texts as without it). Background: docs/design/grievance-resemblance.md.
- **Likeness to a cluster** is the mean cosine of its `neighbours` most alike texts, no two of one text
  or one voice (a text written by several callers counts once, and so does a caller who wrote several:
  one voice however often it calls), paired most alike first (`distinct_voices`: the same whatever the
  order the calls come in); a cluster with fewer alike texts counts the missing ones as 0: one
  similar text is not a grievance's wording. The call joins the most alike cluster when that likeness
  is at least `similarity` and the cluster holds at least `share` of the call's likeness to all named
  texts (the sum of its cosines of at least `floor`): a follow-up worded like the calls about many
  things ("那边还是没有解决，我们要求给个说法") resembles none in particular and joins nothing.

Pure functions over sparse products, a block of a district's calls at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.preprocessing import normalize

from features.grievance_levels import EmergingRule, emerging
from features.grievance_topics import TopicConfig, text_vectors

COLUMNS: tuple[str, ...] = ("pos", "cluster")
TOPICS = TopicConfig()  # how texts are compared by default (as topics compare them)
# Calls naming nothing compared at a time: each block's pairs are decided before the next block's are made.
ASKED_PER_BLOCK = 2_000
# Pairs decided at a time: the blocks' pairs gathered up to this many rows (few rows per block: the calls'
# decisions are each its own, and pandas' cost per decision is mostly fixed).
PAIRS_AT_ONCE = 1_000_000
UNFILED = 0  # the category code of a call filed under no category


@dataclass(frozen=True)
class ResemblanceConfig:
    """When a call naming nothing joins the cluster of named calls it resembles."""

    similarity: float = 0.2  # mean cosine of its `neighbours` most alike calls of the cluster, at least
    neighbours: int = 3  # alike calls of the cluster averaged
    share: float = 0.6  # share of the call's likeness to all named calls the cluster holds, at least
    floor: float = 0.1  # cosines below this count in no share
    things_weigh: bool = True  # weigh each n-gram by how few named clusters' texts hold it
    emerging: bool = True  # an emerging cluster offers its texts of every category (given a level rule)

    def __post_init__(self) -> None:
        if not (0 < self.similarity <= 1 and 0 <= self.floor <= 1 and 0 < self.share <= 1):
            raise ValueError("need 0 < similarity <= 1, 0 <= floor <= 1 and 0 < share <= 1")
        if self.neighbours < 1:
            raise ValueError("neighbours must be positive")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=np.int64) for c in COLUMNS})


def thing_weights(presence: sparse.spmatrix, cluster: np.ndarray) -> np.ndarray:
    """Per n-gram (column of `presence`: a named text's n-grams per row, `cluster` the row's cluster),
    ln((1 + K) / (1 + k)) + 1 with k the clusters holding it (at least 1: wording no named text holds
    weighs as wording of one) and K the clusters: 1 for wording all clusters' texts hold, highest for
    wording of one; all 1 with one cluster, which says nothing of which thing a call is about."""
    if presence.shape[0] == 0:
        return np.ones(presence.shape[1])
    codes, names = pd.factorize(np.asarray(cluster))
    owner = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(names), presence.shape[0])
    )
    held = np.asarray(((owner @ (presence != 0).astype(np.float64)) > 0).sum(axis=0)).ravel()
    return np.log((1 + len(names)) / (1 + np.maximum(held, 1))) + 1


def _weighed(vectors: sparse.csr_matrix, named: pd.DataFrame) -> sparse.csr_matrix:
    """The unit vectors with each n-gram weighed by `thing_weights` over the named texts (`named`:
    code, a text's row, and cluster), of unit length again."""
    held = named[["code", "cluster"]].drop_duplicates()
    weights = thing_weights(vectors[held["code"].to_numpy()], held["cluster"].to_numpy())
    return normalize(vectors @ sparse.diags(weights)).astype(np.float32).tocsr()


def _instants(times: pd.Series) -> np.ndarray:
    """The times as datetime64[ns] in UTC (a tz-aware column's values are objects: slow to subtract)."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.to_numpy(dtype="datetime64[ns]")


def _category_codes(categories: pd.Series) -> np.ndarray:
    """A code per call's category, UNFILED for a call without one."""
    named = categories.astype("string").fillna("").to_numpy(dtype=object)
    return pd.factorize(np.concatenate([np.array([""], dtype=object), named]))[0][1:]


def _voices(calls: pd.DataFrame) -> np.ndarray:
    """Per call: who called (the `caller` column), else the call itself (a call without a caller, or calls
    without the column, each speak for one)."""
    own = np.array([f"#{i}" for i in range(len(calls))], dtype=object)
    if "caller" not in calls:
        return own
    caller = calls["caller"].astype(object).to_numpy()
    return np.where(pd.isna(caller), own, caller)


@dataclass(frozen=True)
class _Compared:
    """What the calls are compared by: the texts' vectors, the calls naming nothing that have a text
    (`asking`: pos, code) and the named calls with theirs (`named`: pos, cluster, code), and per call its
    district (a code, in the districts' order), category (a code: `_category_codes`), time and voice (a
    code, in the voices' order)."""

    vectors: sparse.csr_matrix
    asking: pd.DataFrame
    named: pd.DataFrame
    district: np.ndarray
    category: np.ndarray
    received: np.ndarray
    voice: np.ndarray


def _compared(
    calls: pd.DataFrame, unnamed: np.ndarray, keyed: pd.DataFrame, topics: TopicConfig, things_weigh: bool
) -> _Compared:
    """The vectors of every text compared (the n-grams' weights over all of them) and the calls compared."""
    rows = np.union1d(unnamed, keyed["pos"].to_numpy())
    vectors, codes = text_vectors(calls.iloc[rows][["text", "district", "received_at"]], topics)
    code = pd.Series(codes, index=rows)
    named_district = calls["district"].astype("string").fillna("").to_numpy(dtype=object)
    district = pd.factorize(named_district, sort=True)[0]  # in the districts' name order
    asking = pd.DataFrame({"pos": unnamed, "code": code.reindex(unnamed).to_numpy()})
    asking = asking[(asking["code"] >= 0) & (named_district[unnamed] != "")]
    named = keyed.assign(code=code.reindex(keyed["pos"]).to_numpy())
    named = named[named["code"] >= 0]
    if things_weigh and vectors.shape[1]:
        vectors = _weighed(vectors, named)
    return _Compared(
        vectors,
        asking,
        named,
        district,
        _category_codes(calls["category"]),
        _instants(calls["received_at"]),
        pd.factorize(_voices(calls), sort=True)[0],  # in the voices' order: ties are broken by it
    )


def _district_pairs(
    compared: _Compared,
    ask: pd.DataFrame,
    among: pd.DataFrame,
    window: pd.Timedelta,
    any_category: bool,
    least: float,
) -> pd.DataFrame:
    """`_pairs` of the calls naming nothing of one district (`ask`) and the named calls made there
    (`among`)."""
    c = compared
    product = (c.vectors[ask["code"].to_numpy()] @ c.vectors[among["code"].to_numpy()].T).tocoo()
    asking, named = ask["pos"].to_numpy(), among["pos"].to_numpy()
    clusters, cluster_of = np.unique(among["cluster"].to_numpy(), return_inverse=True)

    def compared_at(at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of the product's entries `at`: the pairs that may join (near in time, filed alike), filed alike."""
        pos, other = asking[product.row[at]], named[product.col[at]]
        near = np.abs(c.received[pos] - c.received[other]) <= window.to_timedelta64()
        mine, theirs = c.category[pos], c.category[other]
        filed = (mine == theirs) | (mine == UNFILED) | (theirs == UNFILED)
        return near & (filed | any_category), filed

    high = np.flatnonzero(product.data >= least)
    high = high[compared_at(high)[0]]
    hot = np.full(len(clusters), -1, dtype=np.int64)  # clusters a call is alike to at `least`
    hot_clusters = np.unique(cluster_of[product.col[high]])
    hot[hot_clusters] = np.arange(len(hot_clusters))
    holds = np.zeros((len(ask), len(hot_clusters)), dtype=bool)
    entry_hot = hot[cluster_of[product.col]]  # per entry of the product, its cluster's column in `holds`
    holds[product.row[high], entry_hot[high]] = True
    at = np.flatnonzero(entry_hot >= 0)
    at = at[holds[product.row[at], entry_hot[at]]]
    may, filed = compared_at(at)
    at, filed = at[may], filed[may]
    columns = {
        "pos": asking[product.row[at]],
        "cluster": clusters[cluster_of[product.col[at]]],
        "document": among["code"].to_numpy()[product.col[at]],
        "cosine": product.data[at].astype(np.float64),
        "caller": c.voice[named[product.col[at]]],
        "filed": filed,
    }
    keys = [columns[k] for k in ("pos", "cluster", "document", "caller")]
    order = np.lexsort((~columns["filed"], *keys[::-1]))  # by the keys, a filed pair first
    ordered = [k[order] for k in keys]
    first = np.ones(len(order), dtype=bool)
    if len(order):
        first[1:] = np.logical_or.reduce([k[1:] != k[:-1] for k in ordered])
    return pd.DataFrame({name: values[order][first] for name, values in columns.items()})


def _pairs(
    compared: _Compared, window: pd.Timedelta, least: float, any_category: bool = False
) -> Iterator[pd.DataFrame]:
    """Per district in name order, a block of its calls naming nothing at a time (in time order, with the
    district's named calls received within the window of the block): (pos, cluster, document, cosine,
    caller, filed) of each call naming nothing and each distinct text (`document`) and voice (`caller`) of
    the named calls it may join (see the module docstring: same district, within the window, same
    category; of any category with `any_category`, `filed` telling whether one of the voice's calls of
    that text is of the call's category), cosines above zero; one row per (pos, cluster, document,
    caller), whatever the order of the calls; only of the (pos, cluster) with a pair alike at `least` or
    more (the others can neither be the cluster a call joins nor count in its share when `least` is at
    most the floor and the similarity: `least_alike`; at city size 4 % of the pairs). A block at a time:
    a city's pairs at once take gigabytes."""
    asking, named, district, received = compared.asking, compared.named, compared.district, compared.received
    for place, ask in asking.groupby(district[asking["pos"].to_numpy()], sort=True):
        among = named[district[named["pos"].to_numpy()] == place]
        if among.empty:
            continue
        among = among.iloc[np.argsort(received[among["pos"].to_numpy()], kind="stable")]
        times = received[among["pos"].to_numpy()]
        ask = ask.iloc[np.argsort(received[ask["pos"].to_numpy()], kind="stable")]
        for start in range(0, len(ask), ASKED_PER_BLOCK):
            block = ask.iloc[start : start + ASKED_PER_BLOCK]
            asked = received[block["pos"].to_numpy()]
            lo = np.searchsorted(times, asked[0] - window.to_timedelta64(), side="left")
            hi = np.searchsorted(times, asked[-1] + window.to_timedelta64(), side="right")
            if hi > lo:
                yield _district_pairs(compared, block, among.iloc[lo:hi], window, any_category, least)


def least_alike(config: ResemblanceConfig) -> float:
    """The cosine a call's pairs with a cluster reach at least in one pair for the cluster to count: one
    less alike can neither be the one the call joins (its likeness is below the similarity) nor hold a
    share of its likeness (no cosine reaches the floor)."""
    return min(config.floor, config.similarity) - 1e-9


def _gathered(frames: Iterator[pd.DataFrame], rows: int) -> Iterator[pd.DataFrame]:
    """The frames concatenated in order, a frame out once it holds `rows` rows or more (the last, fewer)."""
    held: list[pd.DataFrame] = []
    count = 0
    for frame in frames:
        held.append(frame)
        count += len(frame)
        if count >= rows:
            yield pd.concat(held, ignore_index=True)
            held, count = [], 0
    if held:
        yield pd.concat(held, ignore_index=True)


def _joined(pairs: pd.DataFrame, config: ResemblanceConfig) -> pd.DataFrame:
    """(pos, cluster) of the calls of `pairs` that join the cluster they resemble most, when clearly."""
    counted = pairs[pairs["cosine"] >= config.floor - 1e-9].drop_duplicates(["pos", "cluster", "document"])
    mass = counted.groupby(["pos", "cluster"])["cosine"].sum()
    share = mass / mass.groupby(level="pos").transform("sum")
    likeness = (distinct_voices(pairs, config.neighbours).groupby(["pos", "cluster"])["cosine"].sum()) / (
        config.neighbours
    )
    frame = likeness.rename("likeness").reset_index()
    frame["share"] = share.reindex(pd.MultiIndex.from_frame(frame[["pos", "cluster"]])).fillna(0.0).to_numpy()
    frame = frame.sort_values(["pos", "likeness", "cluster"], ascending=[True, False, True], kind="stable")
    best = frame.drop_duplicates("pos")
    joined = best[(best["likeness"] >= config.similarity - 1e-9) & (best["share"] >= config.share - 1e-9)]
    return joined[list(COLUMNS)].astype(np.int64)


def resembling_calls(
    calls: pd.DataFrame,
    unnamed: np.ndarray,
    keyed: pd.DataFrame,
    window: pd.Timedelta,
    config: ResemblanceConfig = ResemblanceConfig(),
    topics: TopicConfig = TOPICS,
    rule: EmergingRule | None = None,
) -> pd.DataFrame:
    """(pos, cluster) of the calls naming nothing that join a cluster of named calls (see the module
    docstring), by pos. `calls`: text, district, category, received_at (tz-aware) and optionally caller
    (None when unknown: a call without a caller speaks for itself); `unnamed`: the
    positions of the calls naming nothing; `keyed`: (pos, cluster) of the named calls, one row per call
    and cluster; `window`: how far apart in time a call and the named calls it is compared with may be;
    `rule`: the level rule telling an emerging cluster (with `config.emerging`; without a rule, texts
    of the call's category only). Everything of a call is decided from its own pairs: decided a block of
    calls at a time (`_pairs`)."""
    keyed = keyed[["pos", "cluster"]].drop_duplicates()
    unnamed = np.setdiff1d(np.asarray(unnamed, dtype=np.int64), keyed["pos"].to_numpy())
    if len(unnamed) == 0 or keyed.empty:
        return _empty()
    wider = config.emerging and rule is not None
    compared = _compared(calls, unnamed, keyed, topics, config.things_weigh)
    found = []
    least = least_alike(config)
    for pairs in _gathered(_pairs(compared, window, least, wider), PAIRS_AT_ONCE):
        if wider:
            offered = keyed[keyed["cluster"].isin(pairs["cluster"].unique())]
            pairs = _emerging_only(pairs, compared, offered, window, config, rule)
        if not pairs.empty:
            found.append(_joined(pairs, config))
    if not found:
        return _empty()
    joined = pd.concat(found, ignore_index=True).sort_values("pos", kind="stable")
    return joined.reset_index(drop=True)


def distinct_voices(pairs: pd.DataFrame, neighbours: int) -> pd.DataFrame:
    """Per (pos, cluster) of `pairs` (pos, cluster, document, caller, cosine): up to `neighbours` rows, no
    two of one text (`document`) or one voice (`caller`), taken most alike first (ties by document, then
    caller): the greedy pairing of voices and texts, the same whatever the order of the rows."""
    columns = ["pos", "cluster", "document", "caller", "cosine"]
    if pairs.empty:
        return pairs[columns].iloc[:0]
    caller = pd.factorize(pairs["caller"], sort=True)[0]  # codes in the callers' order
    pos, cluster, document = (pairs[c].to_numpy(dtype=np.int64) for c in ("pos", "cluster", "document"))
    order = np.lexsort((caller, document, -pairs["cosine"].to_numpy(dtype=np.float64), cluster, pos))
    group = pd.factorize(pos[order] * (cluster.max() + 1) + cluster[order])[0].astype(np.int64)
    text = group * (document.max() + 1) + document[order]  # a text of a group
    voice = group * (caller.max() + 1) + caller[order]  # a voice of a group
    left, taken = np.ones(len(order), dtype=bool), []
    for _ in range(neighbours):
        at = np.flatnonzero(left)
        if not len(at):
            break
        first = at[np.r_[True, group[at][1:] != group[at][:-1]]]  # each group's most alike row left
        taken.append(first)
        left &= ~np.isin(text, text[first]) & ~np.isin(voice, voice[first])
    return pairs[columns].iloc[order[np.concatenate(taken)]].reset_index(drop=True)


def _emerging_only(
    pairs: pd.DataFrame,
    compared: _Compared,
    keyed: pd.DataFrame,
    window: pd.Timedelta,
    config: ResemblanceConfig,
    rule: EmergingRule,
) -> pd.DataFrame:
    """The pairs of `_pairs` with texts of any category, keeping those of other categories than the
    call's only for a cluster emerging when the call was made (`emerging_at`) with a text filed under
    the call's category alike at `similarity` or more."""
    filed = pairs["filed"].to_numpy(dtype=bool)
    other = pairs[~filed]
    vouched = pairs[filed & (pairs["cosine"].to_numpy() >= config.similarity - 1e-9)]
    asked = other[["pos", "cluster"]].drop_duplicates()
    at = pd.MultiIndex.from_frame(asked)
    asked = asked[at.isin(pd.MultiIndex.from_frame(vouched[["pos", "cluster"]]))]
    young = asked[emerging_at(compared.received, compared.voice, asked, keyed, window, rule)]
    kept = pd.MultiIndex.from_frame(other[["pos", "cluster"]]).isin(pd.MultiIndex.from_frame(young))
    return pd.concat([pairs[filed], other[kept]], ignore_index=True)


def emerging_at(
    received: np.ndarray,
    voice: np.ndarray,
    asked: pd.DataFrame,
    keyed: pd.DataFrame,
    window: pd.Timedelta,
    rule: EmergingRule,
) -> np.ndarray:
    """Per (pos, cluster) of `asked`: the cluster was emerging when the call at pos was received: its
    distinct callers (`_voices`) among the named calls (`keyed`: pos, cluster) of the `window` before
    the call are unusual (`grievance_levels.emerging`) against its usual level, the mean of its
    distinct callers per window over the `baseline_windows` windows before `guard_windows` windows
    before that one (each counted back from the call; at least `min_usual`)."""
    if asked.empty:
        return np.zeros(0, dtype=bool)
    both = asked.merge(keyed[["pos", "cluster"]].rename(columns={"pos": "named"}), on="cluster")
    ago = (received[both["pos"].to_numpy()] - received[both["named"].to_numpy()]) / window.to_timedelta64()
    both = both.assign(voice=voice[both["named"].to_numpy()], back=np.floor(ago).astype(np.int64))
    first = 1 + rule.guard_windows
    baseline = both["back"].between(first, first + rule.baseline_windows - 1)
    counted = both[(both["back"] == 0) | baseline].drop_duplicates(["pos", "cluster", "voice", "back"])
    now = counted[counted["back"] == 0].groupby(["pos", "cluster"]).size()
    before = counted[counted["back"] > 0].groupby(["pos", "cluster"]).size()
    at = pd.MultiIndex.from_frame(asked[["pos", "cluster"]])
    usual = np.maximum(before.reindex(at).fillna(0).to_numpy() / rule.baseline_windows, rule.min_usual)
    return emerging(now.reindex(at).fillna(0).to_numpy(), usual, rule)


def without_words(texts: pd.Series, words: pd.DataFrame) -> pd.Series:
    """The texts with the words of `words` (pos: the text's position, thing: the word as written) taken
    out, each replaced by a break so that no n-gram spans it."""
    out = texts.astype(object).to_numpy(copy=True)
    for word, pos in words.groupby("thing", sort=True)["pos"]:
        at = pos.to_numpy(dtype=np.int64)
        out[at] = [t.replace(word, "，") if isinstance(t, str) else t for t in out[at].tolist()]
    return pd.Series(out, index=texts.index, dtype=object)


def resembling_mentions(
    calls: pd.DataFrame,
    found: pd.DataFrame,
    window: pd.Timedelta,
    config: ResemblanceConfig = ResemblanceConfig(),
    topics: TopicConfig = TOPICS,
    nameless: pd.DataFrame | None = None,
    rule: EmergingRule | None = None,
) -> pd.DataFrame:
    """(pos, thing, kind, key, member, district) of the calls without a key (`found`: the calls' keyed
    mentions, pos, kind, key and district) that join a cluster (district, key) by `resembling_calls`, as
    mentions of its thing written as nothing ('': never the form it is shown as). `calls`: text,
    district, category, received_at and optionally caller; `nameless`: (pos, thing) of the words of the
    texts that name a trade or nothing, no thing in particular (整个小区, 自来水公司), left out of the
    texts compared; `rule`: the product's level rule (`resembling_calls`)."""
    unnamed = np.setdiff1d(np.arange(len(calls)), found["pos"].to_numpy())
    clusters = found[["district", "key", "kind"]].drop_duplicates(["district", "key"]).reset_index(drop=True)
    at = pd.MultiIndex.from_frame(clusters[["district", "key"]])
    cluster = at.get_indexer(pd.MultiIndex.from_frame(found[["district", "key"]]))
    keyed = pd.DataFrame({"pos": found["pos"].to_numpy(), "cluster": cluster})
    rows = calls[["text", "district", "category", "received_at", *(["caller"] if "caller" in calls else [])]]
    if nameless is not None and not nameless.empty:
        rows = rows.assign(text=without_words(rows["text"], nameless).to_numpy())
    joined = resembling_calls(rows, unnamed, keyed, window, config, topics, rule)
    thing = clusters.iloc[joined["cluster"].to_numpy()]
    return pd.DataFrame(
        {
            "pos": joined["pos"].to_numpy(),
            "thing": "",
            "kind": thing["kind"].to_numpy(dtype=object),
            "key": thing["key"].to_numpy(dtype=object),
            "member": thing["key"].to_numpy(dtype=object),
            "district": thing["district"].to_numpy(dtype=object),
        }
    )
