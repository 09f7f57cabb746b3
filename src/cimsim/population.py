"""The stakeholders' state as arrays (one row per stakeholder) and the tie table.

Holding the state column-wise lets every monthly rule run vectorised over agents and
ties; the Mesa agents in :mod:`cimsim.agents` read and write their own row.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from cimsim import kernels  # noqa: F401  (first: its cache locator, before any kernel)
from cimsim.calibration import PopulationCal
from cimsim.kernels import rows_of, stretch
from cimsim.network import generate_ties
from cimsim.scenario import Scenario

GOVERNMENT, CITIZEN, BUSINESS, CIVIL_SOCIETY = 0, 1, 2, 3
SECTORS = ("government", "citizens", "businesses", "civil_society")
"""Sector names, indexed by the sector code."""

INACTIVE, AWARE, ENGAGED = 0, 1, 2


def sector_influence(cal: PopulationCal) -> np.ndarray:
    """Mean influence by sector code (before champions are chosen)."""
    return np.array(
        [
            cal.influence_government,
            cal.influence_citizen,
            cal.influence_business,
            cal.influence_civil_society,
        ]
    )


class TieIndex(NamedTuple):
    """Each stakeholder's ties by the end it is at, in tie order (:meth:`Ties.index`)."""

    u_start: np.ndarray
    u_ties: np.ndarray
    v_start: np.ndarray
    v_ties: np.ndarray


@njit(cache=True)
def _by_end(ends, n_nodes):
    """Kernel of :meth:`Ties.index`: the ties grouped by their end in ``ends`` (a counting
    sort, so each node's ties stay in tie order), and where each node's group starts."""
    start = np.zeros(n_nodes + 1, np.int64)
    for e in range(ends.size):
        start[ends[e] + 1] += 1
    for i in range(n_nodes):
        start[i + 1] += start[i]
    fill = start[:-1].copy()
    ties = np.empty(ends.size, np.int64)
    for e in range(ends.size):
        ties[fill[ends[e]]] = e
        fill[ends[e]] += 1
    return start, ties


@dataclass
class Ties:
    """Undirected ties (``u < v``) with trust, and this month's contact state.

    ``org`` marks which nodes are organisations. A tie *counts* in an organisation's
    neighbourhood only if its other end is an organisation too (organisations take their
    cue from peer organisations); every tie counts in a citizen's neighbourhood. This keeps
    neighbourhood shares the same at every citizen resolution (see ``docs/ODD.md`` §7.6).
    """

    n_nodes: int
    u: np.ndarray
    v: np.ndarray
    trust: np.ndarray
    active: np.ndarray
    weight: np.ndarray
    mediated: np.ndarray
    _sorted_keys: np.ndarray
    """The ties' keys (``u * n_nodes + v``) up to the last merge, sorted (see :attr:`keys`)."""
    org: np.ndarray
    counts_u: np.ndarray
    counts_v: np.ndarray
    _new_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    """The keys appended since, sorted: merged into :attr:`_sorted_keys` when they reach
    an eighth of them (at least 1,024), not every month."""
    _deg: np.ndarray | None = field(default=None, repr=False)
    _buffers: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    """Per column, the array it is a prefix view of, with room for ties still to come."""
    _views: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    """Per column, the prefix view last set (a column replaced from outside is not it)."""
    _index: tuple | None = field(default=None, repr=False)
    """The ends ``u`` and ``v`` :meth:`index` was made for, and the index."""

    _COLUMNS = ("u", "v", "trust", "active", "weight", "mediated", "counts_u", "counts_v")

    @classmethod
    def make(
        cls, n_nodes: int, u: np.ndarray, v: np.ndarray, trust: float, org: np.ndarray
    ) -> Ties:
        """Ties from endpoint arrays (``u < v``, unique), all starting at the same trust.
        The ends are kept as int32 (int64 beyond 2**31 nodes): half the bytes every pass over
        the ties reads (a full-scale Malmö run 7% faster, its build 21%)."""
        m = u.size
        ends = np.int32 if n_nodes <= np.iinfo(np.int32).max else np.int64
        u, v = u.astype(ends), v.astype(ends)
        return cls(
            n_nodes=n_nodes,
            u=u,
            v=v,
            trust=np.full(m, trust),
            active=np.zeros(m, bool),
            weight=np.zeros(m),
            mediated=np.zeros(m, bool),
            # stable: adaptive, so the ties of generate_ties, sorted already, take one pass
            # (numpy's default sort took 0.4 ms on Malmö's 15,000 sorted keys, this 7 µs)
            _sorted_keys=np.sort(u.astype(np.int64) * n_nodes + v, kind="stable"),
            org=org,
            counts_u=~org[u] | org[v],
            counts_v=~org[v] | org[u],
        )

    def __len__(self) -> int:
        return int(self.u.size)

    @property
    def keys(self) -> np.ndarray:
        """Every tie's key ``u * n_nodes + v``, sorted."""
        self._merge_new_keys()
        return self._sorted_keys

    def _merge_new_keys(self) -> None:
        """Merge the keys appended since the last merge into the sorted keys. It copies all
        keys: done every month, appending took 1.37 ms a month at full scale (0.29 with the
        keys merged when read or when many), 21 µs a month of Malmö (14)."""
        if self._new_keys.size:
            self._sorted_keys = _merge_sorted(self._sorted_keys, self._new_keys)
            self._new_keys = self._new_keys[:0]

    def __copy__(self) -> Ties:
        """A copy with columns of its own: appending to it must not write into the
        original's buffers."""
        return copy.deepcopy(self)

    def neighbourhood_mean(self, tie_value: np.ndarray, default: float) -> np.ndarray:
        """Per node, the mean of a per-tie value over the ties that count for it."""
        everyone = np.ones(self.n_nodes, np.bool_)
        return neighbourhood_mean_of(
            self.u, self.v, self.counts_u, self.counts_v, tie_value, self.degree, default, everyone
        )

    def index(self) -> TieIndex:
        """Each stakeholder's ties, in tie order, by the end it is at: ``u_ties[u_start[i]:
        u_start[i + 1]]`` are the ties with ``u == i``, and the same for ``v``. It covers the
        first ``u_ties.size`` ties; ties appended since are read from the tie table (kernels
        scan them after the indexed ones, so each stakeholder's ties still come in tie
        order). Made when first asked for, and again when the appended ties reach an eighth
        of the indexed ones (at least 1,024) or the ends were replaced."""
        index = self._held_index()
        if index is not None and self.u.size - index.u_ties.size < max(
            1024, index.u_ties.size // 8
        ):
            return index
        ids = np.int32 if self.u.size <= np.iinfo(np.int32).max else np.int64
        u_start, u_ties = _by_end(self.u, self.n_nodes)
        v_start, v_ties = _by_end(self.v, self.n_nodes)
        index = TieIndex(u_start, u_ties.astype(ids), v_start, v_ties.astype(ids))
        self._index = (self.u, self.v, index, tuple(index))
        return index

    def index_fields(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`index` as a plain tuple, as the month's compiled calls take it (numba
        types a plain tuple of arrays in its compiled dispatcher, a named tuple in Python:
        0.4 against 1.2 µs a call); they make the :class:`TieIndex` of it inside."""
        self.index()
        return self._index[3]

    def _held_index(self) -> TieIndex | None:
        """The index last made, if it was made for these ends (not replaced since)."""
        held = self._index
        if held is not None and held[0] is self.u and held[1] is self.v:
            return held[2]
        return None

    def between(self, mask: np.ndarray, also: np.ndarray | None = None) -> np.ndarray:
        """Mask of ties whose both ends are in ``mask`` (and in ``also``, if given)."""
        return _between(self.u, self.v, mask if also is None else mask & also)

    @property
    def degree(self) -> np.ndarray:
        """Ties that count per node (cached; ties are only ever appended through add)."""
        if self._deg is None or self._deg_size != self.u.size:
            self._deg = np.bincount(
                self.u, weights=self.counts_u, minlength=self.n_nodes
            ) + np.bincount(self.v, weights=self.counts_v, minlength=self.n_nodes)
            self._deg_size = self.u.size
        return self._deg

    def add(self, u: np.ndarray, v: np.ndarray, trust: float) -> int:
        """Append new ties (brokered by the backbone); existing ties and loops are skipped.

        Returns the number of ties added.
        """
        return int(self.add_batches(u, v, np.array([0, len(u)]), trust)[0])

    def add_batches(
        self, u: np.ndarray, v: np.ndarray, bounds: np.ndarray, trust: float
    ) -> np.ndarray:
        """Append the new ties of several batches at once (batch ``j`` is
        ``u[bounds[j]:bounds[j + 1]]`` and the same of ``v``), as if added batch after
        batch: each batch's new ties in key order, skipping ties that exist or an earlier
        batch added. Returns the number added per batch."""
        u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
        m = self.u.size
        moved = self._reserve(m + u.size)  # room for every candidate: one compiled call
        buffers = self._buffers
        added, count, self._new_keys, self._deg = _add_batches(
            self._sorted_keys,
            self._new_keys,
            u,
            v,
            np.asarray(bounds, np.int64),
            self.n_nodes,
            self.org,
            float(trust),
            self.degree,
            m,
            *[buffers[name] for name in self._COLUMNS],
        )
        if count or moved:
            size = m + count
            if self._new_keys.size >= max(1024, self._sorted_keys.size // 8):
                self._merge_new_keys()
            index = self._held_index()
            for name in self._COLUMNS:
                self._views[name] = buffers[name][:size]
                setattr(self, name, self._views[name])
            self._deg_size = size
            if index is not None:  # the indexed ties are unchanged: the new ones come after
                self._index = (self.u, self.v, index, self._index[3])
        return added

    def _reserve(self, size: int) -> bool:
        """Make every column a prefix view of a buffer with room for ``size`` ties, so that
        appending writes only the new ties (brokering adds ties every month; copying all
        columns each time cost about 27 ms a month at full scale). A full buffer grows by a
        quarter; a column replaced from outside is copied into a new buffer. Returns
        whether a column moved to a new buffer (its view is then still to be set)."""
        m = self.u.size
        moved = False
        for name in self._COLUMNS:
            column = getattr(self, name)
            buffer = self._buffers.get(name)
            if (
                buffer is None
                or buffer.size < size
                or column is not self._views.get(name)
                or column.base is not buffer
            ):
                buffer = np.empty(max(size, m + m // 4 + 1024), column.dtype)
                buffer[:m] = column
                self._buffers[name] = buffer
                moved = True
        return moved


@njit(cache=True)
def _add_batches(
    keys,
    new_keys,
    u_new,
    v_new,
    bounds,
    n_nodes,
    org,
    trust,
    degree,
    m,
    u,
    v,
    trust_column,
    active,
    weight,
    mediated,
    counts_u,
    counts_v,
):
    """Kernel of :meth:`Ties.add_batches`: the fresh ties among the candidates
    (:func:`_fresh_keys`) written, in that order, into the column buffers (which have room
    for every candidate) after the ``m`` existing ones, at trust ``trust`` and with no
    contact this month. Returns the number added per batch and in all, the keys appended
    since the last merge (sorted) with them merged in, and the degree with them counted."""
    key, added = _fresh_keys(keys, new_keys, u_new, v_new, bounds, n_nodes)
    if key.size:
        new_keys = _merge_sorted(new_keys, np.sort(key))
        degree = degree.copy()
        for j in range(key.size):
            a, b = key[j] // n_nodes, key[j] % n_nodes
            e = m + j
            u[e], v[e], trust_column[e], weight[e] = a, b, trust, 0.0
            active[e], mediated[e] = False, False
            counts_u[e] = not org[a] or org[b]
            counts_v[e] = not org[b] or org[a]
            degree[a] += counts_u[e]
            degree[b] += counts_v[e]
    return added, key.size, new_keys, degree


@njit(cache=True)
def _fresh_keys(keys, new_keys, u, v, bounds, n_nodes):
    """Kernel of :meth:`Ties.add_batches`: per batch, its distinct candidate keys
    (``min * n_nodes + max`` of the ends) in order that are neither loops nor existing
    ties (``keys`` and ``new_keys``, each sorted) nor added by an earlier batch. A batch's
    keys are sorted in place in one scratch array (a month brings a handful: the arrays
    ``np.unique`` and its masks made cost more than the search)."""
    out = np.empty(u.size, np.int64)
    added = np.zeros(bounds.size - 1, np.int64)
    scratch = np.empty(u.size, np.int64)
    k = 0
    for b in range(bounds.size - 1):
        earlier = np.sort(out[:k]) if k else out[:0]
        n = 0
        for j in range(bounds[b], bounds[b + 1]):
            if u[j] != v[j]:
                scratch[n] = min(u[j], v[j]) * n_nodes + max(u[j], v[j])
                n += 1
        batch = scratch[:n]
        batch.sort()
        for i in range(n):
            key = batch[i]
            if i and key == batch[i - 1]:
                continue
            if _holds(keys, key) or _holds(new_keys, key) or _holds(earlier, key):
                continue
            out[k] = key
            k += 1
            added[b] += 1
    return out[:k], added


@njit(cache=True)
def _holds(ordered, key):
    """Whether the sorted array ``ordered`` holds ``key``."""
    pos = np.searchsorted(ordered, key)
    return pos < ordered.size and ordered[pos] == key


@njit(cache=True)
def _merge_sorted(keys, more):
    """The sorted arrays ``keys`` and ``more`` (no key in both) merged, sorted."""
    k = more.size
    merged = np.empty(keys.size + k, np.int64)
    at = np.searchsorted(keys, more)
    done = 0
    for j in range(k):
        merged[done + j : at[j] + j] = keys[done : at[j]]
        merged[at[j] + j] = more[j]
        done = at[j]
    merged[done + k :] = keys[done:]
    return merged


ONE_PASS_TIES = 250_000
"""From how many ties :func:`engaged_ties_of` reads all ties in one pass when the engaged
hold more than two fifths of them: reading in order wins once the ties no longer fit in
the cache (full scale, 1.68 M ties, 45% held by the engaged: 11.1 ms against 16.4 through
the index), the index below that (10,000 stakeholders, 46,000 ties, half held by the
engaged: 141 µs against 212)."""


@njit(cache=True)
def engaged_ties_of(
    u, v, counts_u, counts_v, tie_trust, degree, default, engagement, org, index, threads
):
    """The ties once engagement is fixed for the month: masks of the ties whose both ends
    are engaged and of those whose both ends are engaged organisations, the same ties'
    indices (in tie order), and each engaged stakeholder's mean trust over the ties that
    count for it (:func:`neighbourhood_mean_of` of the engaged: the same sums in the same
    order; ``default`` for the others and for the engaged without ties). Read from the
    engaged's own ties (``index``, a :class:`TieIndex`; ties appended since are scanned),
    or in one pass over all ties (:data:`ONE_PASS_TIES`); ``threads``: the engaged are
    shared among numba's threads (:func:`cimsim.kernels.use_threads`), each reading its
    own ties."""
    n = engagement.size
    engaged = np.empty(n, np.bool_)
    for i in range(n):
        engaged[i] = engagement[i] == ENGAGED
    if not threads and u.size >= ONE_PASS_TIES and 5 * _visits(engaged, index) > 2 * u.size:
        return _engaged_ties_in_one_pass(
            u, v, counts_u, counts_v, tie_trust, degree, default, engaged, org
        )
    engaged_tie = np.zeros(u.size, np.bool_)
    partner_tie = np.zeros(u.size, np.bool_)
    at_u = np.zeros(n)
    at_v = np.zeros(n)
    if threads:
        _own_engaged_ties_threads(
            v, counts_u, counts_v, tie_trust, engaged, org, index, engaged_tie, partner_tie,
            at_u, at_v, threads,
        )  # fmt: skip
    else:
        _own_engaged_ties(
            v, counts_u, counts_v, tie_trust, engaged, org, index, engaged_tie, partner_tie,
            at_u, at_v, 0, n,
        )  # fmt: skip
    for e in range(index.u_ties.size, u.size):  # appended since the index was made
        a, b = u[e], v[e]
        at_u[a] += tie_trust[e] * counts_u[e]  # read for the engaged only
        at_v[b] += tie_trust[e] * counts_v[e]
        engaged_tie[e] = engaged[a] & engaged[b]
        partner_tie[e] = engaged_tie[e] & org[a] & org[b]
    mean = _mean_of_engaged(at_u, at_v, degree, default, engaged, threads)
    engaged_idx, partner_idx = _rows_of_both(engaged_tie, partner_tie, threads)
    return engaged_tie, partner_tie, engaged_idx, partner_idx, mean


@njit(cache=True)
def _own_engaged_ties(
    v, counts_u, counts_v, tie_trust, engaged, org, index, engaged_tie, partner_tie, at_u, at_v,
    lo, hi,
):  # fmt: skip
    """The loop over the engaged of :func:`engaged_ties_of` for stakeholders ``lo`` to
    ``hi``: each one's sums over its own ties (:func:`_own_sums`), with each tie marked at
    its ``u`` end in the same pass (a second pass over the u ends cost 20% of the kernel).
    Serially one stretch of all; on the threads one per thread (a tie is marked by its
    ``u`` end's thread only)."""
    for i in range(lo, hi):
        if not engaged[i]:
            continue
        total = 0.0
        for k in range(index.u_start[i], index.u_start[i + 1]):
            e = index.u_ties[k]
            total += tie_trust[e] * counts_u[e]
            engaged_tie[e] = engaged[v[e]]
            partner_tie[e] = engaged[v[e]] & org[i] & org[v[e]]
        at_u[i] = total
        total = 0.0
        for k in range(index.v_start[i], index.v_start[i + 1]):
            e = index.v_ties[k]
            total += tie_trust[e] * counts_v[e]
        at_v[i] = total


@njit(cache=True, parallel=True)
def _own_engaged_ties_threads(
    v, counts_u, counts_v, tie_trust, engaged, org, index, engaged_tie, partner_tie, at_u, at_v,
    parts,
):  # fmt: skip
    """:func:`_own_engaged_ties` in ``parts`` stretches of the stakeholders on the threads."""
    for c in prange(parts):
        lo, hi = stretch(engaged.size, parts, c)
        _own_engaged_ties(
            v, counts_u, counts_v, tie_trust, engaged, org, index, engaged_tie, partner_tie,
            at_u, at_v, lo, hi,
        )  # fmt: skip


@njit(cache=True)
def _rows_of_both(first, second, threads):
    """``flatnonzero`` of two masks of the same length, ``second`` within ``first``: the
    rows of ``second`` are found among those of ``first`` (a pass over a fifth of the ties
    in Malmö, where a second ``flatnonzero`` read them all twice)."""
    first_rows = rows_of(first, threads)
    second_rows = np.empty(first_rows.size + 1, np.int64)
    k = 0
    for e in first_rows:
        second_rows[k] = e
        k += second[e]
    return first_rows, second_rows[:k]


@njit(cache=True)
def _own_sums(i, index, tie_value, counts_u, counts_v):
    """Stakeholder ``i``'s sums of ``tie_value`` over its indexed ties that count for it, at
    its ``u`` end and at its ``v`` end, each in tie order (as one pass over all ties adds
    them up)."""
    at_u = 0.0
    for k in range(index.u_start[i], index.u_start[i + 1]):
        e = index.u_ties[k]
        at_u += tie_value[e] * counts_u[e]
    at_v = 0.0
    for k in range(index.v_start[i], index.v_start[i + 1]):
        e = index.v_ties[k]
        at_v += tie_value[e] * counts_v[e]
    return at_u, at_v


@njit(cache=True, parallel=True)
def _own_sums_threads(rows, index, tie_value, counts_u, counts_v, at_u, at_v):
    """The loop of :func:`neighbourhood_mean_at` over its rows, on the threads."""
    for k in prange(rows.size):
        at_u[k], at_v[k] = _own_sums(rows[k], index, tie_value, counts_u, counts_v)


@njit(cache=True)
def _visits(rows, index):
    """How many indexed ties the stakeholders in ``rows`` (a mask) hold, counted at both
    ends."""
    visits = 0
    for i in range(rows.size):
        if rows[i]:
            visits += index.u_start[i + 1] - index.u_start[i]
            visits += index.v_start[i + 1] - index.v_start[i]
    return visits


@njit(cache=True)
def _engaged_ties_in_one_pass(u, v, counts_u, counts_v, tie_trust, degree, default, engaged, org):
    """:func:`engaged_ties_of` in one pass over all ties, in tie order."""
    n, m = engaged.size, u.size
    engaged_tie = np.empty(m, np.bool_)
    partner_tie = np.empty(m, np.bool_)
    engaged_idx = np.empty(m + 1, np.int64)
    partner_idx = np.empty(m + 1, np.int64)
    at_u = np.zeros(n)
    at_v = np.zeros(n)
    n_engaged = n_partner = 0
    for e in range(m):
        a, b = u[e], v[e]
        both = engaged[a] & engaged[b]
        partners = both & org[a] & org[b]
        engaged_tie[e], partner_tie[e] = both, partners
        engaged_idx[n_engaged] = e
        n_engaged += both
        partner_idx[n_partner] = e
        n_partner += partners
        at_u[a] += tie_trust[e] * counts_u[e]  # read for the engaged only
        at_v[b] += tie_trust[e] * counts_v[e]
    mean = _mean_of_engaged(at_u, at_v, degree, default, engaged, 0)
    return engaged_tie, partner_tie, engaged_idx[:n_engaged], partner_idx[:n_partner], mean


@njit(cache=True)
def _mean_of_engaged(at_u, at_v, degree, default, engaged, threads):
    """Each engaged stakeholder's sums over its ties divided by its degree (``default`` for
    the others and for those without ties); on ``threads`` threads, in stretches of the
    stakeholders (0: serially)."""
    mean = np.empty(degree.size)
    if threads:
        _mean_of_engaged_threads(at_u, at_v, degree, default, engaged, mean, threads)
    else:
        _mean_stretch(at_u, at_v, degree, default, engaged, mean, 0, degree.size)
    return mean


@njit(cache=True)
def _mean_stretch(at_u, at_v, degree, default, engaged, mean, lo, hi):
    """:func:`_mean_of_engaged` for stakeholders ``lo`` to ``hi``, written into ``mean``."""
    for i in range(lo, hi):
        if engaged[i] and degree[i] > 0:
            mean[i] = (at_u[i] + at_v[i]) / max(degree[i], 1.0)
        else:
            mean[i] = default


@njit(cache=True, parallel=True)
def _mean_of_engaged_threads(at_u, at_v, degree, default, engaged, mean, parts):
    """:func:`_mean_stretch` in ``parts`` stretches of the stakeholders on the threads."""
    for c in prange(parts):
        lo, hi = stretch(degree.size, parts, c)
        _mean_stretch(at_u, at_v, degree, default, engaged, mean, lo, hi)


@njit(cache=True)
def _between(u, v, both):
    """Kernel of :meth:`Ties.between`."""
    out = np.empty(u.size, np.bool_)
    for e in range(u.size):
        out[e] = both[u[e]] and both[v[e]]
    return out


@njit(cache=True)
def neighbourhood_mean_of(u, v, counts_u, counts_v, tie_value, degree, default, wanted):
    """Kernel of :meth:`Ties.neighbourhood_mean`, for the ``wanted`` nodes (the others get
    ``default``; ties between two of them are skipped)."""
    at_u = np.zeros(degree.size)
    at_v = np.zeros(degree.size)
    for e in range(u.size):
        if wanted[u[e]] or wanted[v[e]]:
            at_u[u[e]] += tie_value[e] * counts_u[e]
            at_v[v[e]] += tie_value[e] * counts_v[e]
    mean = np.full(degree.size, default)
    for i in range(degree.size):
        if wanted[i] and degree[i] > 0:
            mean[i] = (at_u[i] + at_v[i]) / max(degree[i], 1.0)
    return mean


@njit(cache=True)
def neighbourhood_mean_at(
    rows, u, v, counts_u, counts_v, tie_value, degree, default, index, threads
):
    """:func:`neighbourhood_mean_of` for the stakeholders ``rows`` only, through their own
    ties (``index``, a :class:`TieIndex`; ties appended after it are scanned): the same sums
    in the same order. Returns a value per stakeholder, ``default`` for the others.
    ``threads``: the rows are shared among numba's threads
    (:func:`cimsim.kernels.use_threads`; 0: serially), each one's sums the same."""
    slot = np.full(degree.size, -1, np.int64)
    for k in range(rows.size):
        slot[rows[k]] = k
    at_u = np.empty(rows.size)
    at_v = np.empty(rows.size)
    if threads:
        _own_sums_threads(rows, index, tie_value, counts_u, counts_v, at_u, at_v)
    else:
        for k in range(rows.size):
            at_u[k], at_v[k] = _own_sums(rows[k], index, tie_value, counts_u, counts_v)
    for e in range(index.u_ties.size, u.size):  # appended since the index was made
        k_u, k_v = slot[u[e]], slot[v[e]]
        if k_u >= 0:
            at_u[k_u] += tie_value[e] * counts_u[e]
        if k_v >= 0:
            at_v[k_v] += tie_value[e] * counts_v[e]
    mean = np.full(degree.size, default)
    for k in range(rows.size):
        i = rows[k]
        if degree[i] > 0:
            mean[i] = (at_u[slot[i]] + at_v[slot[i]]) / max(degree[i], 1.0)
    return mean


@dataclass
class Population:
    """Column-wise state of all stakeholders (government, citizens, businesses, civil society)."""

    sector: np.ndarray
    village: np.ndarray
    engagement: np.ndarray
    commitment: np.ndarray
    position: np.ndarray
    reserve: np.ndarray
    influence: np.ndarray
    capacity: np.ndarray
    preferred: np.ndarray
    area: np.ndarray
    fatigue: np.ndarray
    threshold: np.ndarray
    champion: np.ndarray
    intern: np.ndarray
    attended: np.ndarray
    coordinated: np.ndarray
    exposure: np.ndarray
    burnt_out: np.ndarray
    willing: np.ndarray
    represents: np.ndarray

    def __len__(self) -> int:
        return int(self.sector.size)

    @property
    def engaged(self) -> np.ndarray:
        """Boolean mask of engaged stakeholders."""
        return self.engagement == ENGAGED

    @classmethod
    def build(cls, scenario: Scenario, rng: np.random.Generator) -> tuple[Population, Ties]:
        """Draw the initial population and its network from the scenario and generator.

        A citizen agent stands for ``residents_per_citizen`` residents: its capacity is that
        many residents' effort, and every chance below is per agent, so the expected share of
        residents in each state is the same at any resolution.
        """
        pop = scenario.population
        cal = scenario.calibration.population
        rpc = pop.residents_per_citizen
        counts = [pop.government, pop.citizens, pop.businesses, pop.civil_society]
        # organisations first, then citizens: rows are stable across scales
        order = [GOVERNMENT, BUSINESS, CIVIL_SOCIETY, CITIZEN]
        sector = np.concatenate([np.full(counts[s], s, np.int8) for s in order])
        n = sector.size
        is_citizen = sector == CITIZEN
        is_org = ~is_citizen
        village = rng.integers(0, pop.villages, n).astype(np.int16)
        village[sector == GOVERNMENT] = np.arange(pop.government) % pop.villages
        represents = np.where(is_citizen, rpc, 1.0)

        mean_capacity = np.array(
            [
                cal.capacity_government,
                cal.resident_capacity * rpc,
                cal.capacity_business,
                cal.capacity_civil_society,
            ]
        )
        capacity = mean_capacity[sector] * rng.lognormal(0.0, cal.capacity_spread, n)
        influence = np.clip(
            sector_influence(cal)[sector] * rng.lognormal(0.0, cal.influence_spread, n), 0.0, 1.0
        )
        agenda_mean = np.array([0.5, 0.5, cal.agenda_business, 1.0 - cal.agenda_business])
        position = np.clip(agenda_mean[sector] + rng.normal(0.0, cal.agenda_spread, n), 0.0, 1.0)
        k = len(scenario.activities.areas)
        popularity = 1.0 / np.arange(1, k + 1) ** cal.popularity_skew
        preferred = rng.choice(k, size=n, p=popularity / popularity.sum()).astype(np.int16)
        threshold = np.where(
            is_citizen,
            rng.beta(cal.threshold_resident_a, cal.threshold_resident_b, n),
            rng.beta(cal.threshold_org_a, cal.threshold_org_b, n),
        )
        reserve = np.full(n, cal.initial_reserve * scenario.preconditions.resources)
        # only some would ever take part: the rest have other priorities (never engage)
        willing = rng.random(n) < np.where(
            is_citizen, cal.willing_residents, cal.willing_organisations
        )
        willing[sector == GOVERNMENT] = True  # the municipality's own departments

        engagement = np.zeros(n, np.int8)
        urgency = scenario.preconditions.urgency
        draw = rng.random(n)
        engagement[is_org & (draw < cal.aware_org_base + cal.aware_org_urgency * urgency)] = AWARE
        engagement[is_citizen & (draw < cal.aware_resident_urgency * urgency)] = AWARE
        engagement[sector == GOVERNMENT] = AWARE

        champion = np.zeros(n, bool)
        n_champ = min(scenario.preconditions.champions, int(is_org.sum()))
        if n_champ:
            orgs = np.flatnonzero(is_org)
            chosen = orgs[np.argsort(-influence[orgs], kind="stable")[:n_champ]]
            champion[chosen] = True
            willing[chosen] = True
            influence[chosen] = scenario.preconditions.champion_strength
            engagement[chosen] = ENGAGED

        commitment = np.where(engagement == ENGAGED, cal.initial_commitment, 0.0)
        commitment[champion] = np.maximum(
            cal.initial_commitment, scenario.preconditions.champion_strength
        )

        # interns are people: as many agents as it takes to hold them, sharing their effort
        intern = np.zeros(n, bool)
        citizens = np.flatnonzero(is_citizen)
        people = scenario.activities.internships
        n_intern = min(int(np.ceil(people / rpc)), citizens.size) if people else 0
        if n_intern:
            chosen = rng.choice(citizens, size=n_intern, replace=False)
            intern[chosen] = True
            willing[chosen] = True
            capacity[chosen] = cal.internship_capacity * people / n_intern
            engagement[chosen] = ENGAGED
            commitment[chosen] = cal.intern_commitment

        u, v = generate_ties(
            rng,
            sector,
            village,
            scenario.network.mean_degree,
            scenario.network.within_group,
            scenario.calibration.network,
        )
        ties = Ties.make(n, u, v, scenario.settings.initial_trust, is_org)
        state = cls(
            sector=sector,
            village=village,
            engagement=engagement,
            commitment=commitment,
            position=position,
            reserve=reserve,
            influence=influence,
            capacity=capacity,
            preferred=preferred,
            area=preferred.copy(),
            fatigue=np.zeros(n),
            threshold=threshold,
            champion=champion,
            intern=intern,
            attended=np.zeros(n, bool),
            coordinated=np.zeros(n, bool),
            exposure=np.zeros(n),
            burnt_out=np.zeros(n, bool),
            willing=willing,
            represents=represents,
        )
        return state, ties
