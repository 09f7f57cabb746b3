"""Backbone functions: convene meetings, run measurement, match, broker ties, raise funds.

A backbone agent has an effective capacity ``capacity * share * (funding_base + (1 -
funding_base) * resources)`` split over its functions. Its form decides the split and the
reach: a central backbone does everything for everyone (Malmö), a core team and a steering
group divide operations from convening and fundraising (Mechelen), and village
coordination groups convene partners and hold resident workshops inside their own village
(Skive). Each agent works per capita: its rates are its capacity divided by the share of
the population it serves, so eight village groups of one eighth each do, in their villages,
what one central backbone of the same total capacity does city-wide.

Partners coordinate too: engaged government units convene at a fraction of a backbone's
reach and pay for it from their own reserves. Their share fades out linearly as the
backbone's effective capacity grows (``state.partner_share()``), so a backbone with no
capacity is the same as none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit, prange

from cimsim.kernels import (
    constants,
    flatnonzero,
    pairwise_sum,
    stretch,
    uniforms,
    use_threads,
)
from cimsim.mechanisms import agenda
from cimsim.mechanisms.agenda import align
from cimsim.network import propensity_by_sector
from cimsim.population import AWARE, CITIZEN, ENGAGED, GOVERNMENT, neighbourhood_mean_at

if TYPE_CHECKING:
    from cimsim.calibration import BackboneCal, NetworkCal
    from cimsim.initiative import Initiative

FUNCTION_SHARES = {
    "central": {"convene": 0.3, "measure": 0.25, "match": 0.2, "broker": 0.15, "fundraise": 0.1},
    "core team": {"measure": 0.4, "match": 0.35, "broker": 0.25},
    "steering group": {"convene": 0.6, "fundraise": 0.4},
    "coordination group": {"convene": 0.45, "broker": 0.2, "match": 0.2, "measure": 0.15},
}
"""How each backbone role splits its capacity over the five backbone functions."""

FUNCTIONS = tuple(FUNCTION_SHARES["central"])
"""The five backbone functions."""

_share_totals = {
    (role, measuring): sum(v for k, v in shares.items() if measuring or k != "measure")
    for role, shares in {**FUNCTION_SHARES, "backbone": FUNCTION_SHARES["central"]}.items()
    for measuring in (True, False)
}
"""Sum of each role's function shares, with and without a measurement system."""

FORMS = {
    "central": (("backbone", 1.0),),
    "split": (("core team", 0.6), ("steering group", 0.4)),
    "distributed": (("coordination group", 1.0),),
}
"""The backbone agents of each ``backbone.form``: (role, share of the capacity). A
distributed backbone has one coordination group per village, sharing its entry equally."""


Job = tuple[float, int | None, bool, float]
"""One convener's meetings this month: invitation rate, village served (None: all),
whether invitations go by influence, workshop rate (see :func:`convene`)."""


@njit(cache=True)
def _segments(mask, village, villages):
    """Rows in ``mask`` for each entry of ``villages`` (-1: every village), one segment
    after another, in row order; and the segments' bounds."""
    rows = flatnonzero(mask)
    out = np.empty(rows.size * villages.size, np.int64)
    bounds = np.zeros(villages.size + 1, np.int64)
    k = 0
    for j in range(villages.size):
        for i in rows:
            if villages[j] < 0 or village[i] == villages[j]:
                out[k] = i
                k += 1
        bounds[j + 1] = k
    return out[:k], bounds


def _village_codes(villages: list[int | None]) -> np.ndarray:
    return np.array([-1 if v is None else v for v in villages], np.int64)


def meeting_groups(state: Initiative, members: np.ndarray) -> np.ndarray:
    """Seat attendees at random in groups of ``meeting_size``: organisations with
    organisations, residents with residents. Returns each member's group (0, 1, ...)."""
    is_org = state.pop.sector[members] != CITIZEN
    return _seat(state.rng, is_org, state.cal.backbone.meeting_size)


@njit(cache=True)
def _seat(rng, is_org, size):
    """Kernel of :func:`meeting_groups`: a random seat for each attendee; organisations
    fill the first groups, residents the groups after them."""
    n_org = np.count_nonzero(is_org)
    seats_org = rng.permutation(n_org)
    seats_cit = rng.permutation(is_org.size - n_org)
    group = np.empty(is_org.size, np.int64)
    offset = (n_org + size - 1) // size
    k_org = k_cit = 0
    for j in range(is_org.size):
        if is_org[j]:
            group[j] = seats_org[k_org] // size
            k_org += 1
        else:
            group[j] = offset + seats_cit[k_cit] // size
            k_cit += 1
    return group


def hold_meetings(state: Initiative, members: np.ndarray, facilitated: bool = True) -> None:
    """Attendees meet in groups of ``meeting_size``: organisations with organisations,
    residents with residents. Ties inside a meeting are contacted face to face; attendees
    align toward their meeting's mean position. A facilitated meeting (the backbone's, a
    workshop) mediates: it widens the confidence bound and lifts the power damping of
    trust gains; a meeting government partners convene themselves does neither."""
    if members.size < 2:
        return
    meet(state, members, meeting_groups(state, members), facilitated)


def meet(state: Initiative, members: np.ndarray, group: np.ndarray, facilitated: bool) -> None:
    """Hold the meetings of seated attendees (``group`` as from :func:`meeting_groups`;
    meetings of different villages can be held together, with distinct group numbers)."""
    pop, ties = state.pop, state.ties
    hold(
        members,
        group,
        facilitated,
        ties.u,
        ties.v,
        ties.active,
        ties.mediated,
        ties.weight,
        pop.attended,
        pop.position,
        state.node_trust(),
        agenda.params(state),
        ties.index(),
        use_threads(ties.u.size),
    )


@njit(cache=True)
def hold(
    members,
    group,
    facilitated,
    u,
    v,
    active,
    mediated,
    weight,
    attended,
    position,
    node_trust,
    constants,
    index,
    threads,
):
    """Kernel of :func:`meet`: attendance, face-to-face contact on the ties inside each
    meeting, and the attendees' move toward their meeting's mean position (``node_trust``
    is read for the attendees only; ``index``: :meth:`cimsim.population.Ties.index`;
    ``threads``: :func:`cimsim.kernels.use_threads`, the same meetings)."""
    confidence, base, widening, rate = constants
    for i in members:
        attended[i] = True
    _contact_in_meetings(
        u, v, members, group, attended.size, active, mediated, weight, facilitated, index, threads
    )
    if members.size:
        align(
            members,
            group,
            group.max() + 1,
            position,
            node_trust,
            confidence,
            base,
            widening * facilitated,
            rate,
        )


@njit(cache=True)
def _contact_in_meetings(
    u, v, members, group, n, active, mediated, weight, facilitated, index, threads
):
    """Kernel of :func:`meet`: every tie between two attendees of one meeting is contacted
    face to face (and mediated when the meeting is facilitated). Each such tie is found at
    its ``u`` end among the attendees' own ties (``index``; ties appended since are
    scanned); ``threads``: the attendees are shared among numba's threads (a tie has one
    ``u`` end, so no two threads write it)."""
    gid = np.full(n, -1, np.int64)
    for k in range(members.size):
        gid[members[k]] = group[k]
    if threads:
        _contact_own_ties_threads(
            v, members, gid, active, mediated, weight, facilitated, index, threads
        )
    else:
        _contact_own_ties(
            v, members, gid, active, mediated, weight, facilitated, index, 0, members.size
        )
    for e in range(index.u_ties.size, u.size):
        g = gid[u[e]]
        if g >= 0 and g == gid[v[e]]:
            _meet_on(e, active, mediated, weight, facilitated)


@njit(cache=True)
def _contact_own_ties(v, members, gid, active, mediated, weight, facilitated, index, lo, hi):
    """The loop over the attendees ``members[lo:hi]`` of :func:`_contact_in_meetings`: each
    one's own ties (at their ``u`` end) to an attendee of its meeting are contacted.
    Serially one stretch of all; on the threads one per thread."""
    for j in range(lo, hi):
        i = members[j]
        for k in range(index.u_start[i], index.u_start[i + 1]):
            e = index.u_ties[k]
            if gid[v[e]] == gid[i]:
                _meet_on(e, active, mediated, weight, facilitated)


@njit(cache=True, parallel=True)
def _contact_own_ties_threads(v, members, gid, active, mediated, weight, facilitated, index, parts):
    """:func:`_contact_own_ties` in ``parts`` stretches of the attendees on the threads."""
    for c in prange(parts):
        lo, hi = stretch(members.size, parts, c)
        _contact_own_ties(v, members, gid, active, mediated, weight, facilitated, index, lo, hi)


@njit(cache=True)
def _meet_on(e, active, mediated, weight, facilitated):
    """Tie ``e`` carries a face-to-face contact this month (mediated if facilitated)."""
    active[e] = True
    if facilitated:
        mediated[e] = True
    weight[e] = 1.0


def convene_jobs(state: Initiative, jobs: list[Job], facilitated: bool = True) -> list[int]:
    """Hold the meetings of conveners who serve different villages (or of one convener);
    return each one's number of attendees.

    A convener invites members of the meeting pool of its village with its rate, and,
    with its workshop rate, residents of the village who are not engaged (they become
    aware). Conveners of different villages draw one after another, and their meetings,
    being independent, are held in one pass over the ties.
    """
    pop, ties = state.pop, state.ties
    return convene_round(
        state.rng,
        *job_arrays(jobs),
        facilitated,
        pop.sector,
        pop.village,
        pop.engagement,
        pop.influence,
        pop.represents,
        pop.attended,
        pop.position,
        ties.u,
        ties.v,
        ties.active,
        ties.mediated,
        ties.weight,
        state.cal.backbone.meeting_size,
        agenda.params(state),
        ties.counts_u,
        ties.counts_v,
        ties.trust,
        ties.degree,
        float(state.settings.initial_trust),
        ties.index(),
        use_threads(ties.u.size),
    ).tolist()


class Conveners(NamedTuple):
    """What the month's compiled call needs of the conveners that does not change from
    month to month (:func:`conveners`): the backbone units in convening order, the jobs'
    villages (-1: all) and whether they invite by influence (the government partners' job
    last), the rounds' bounds in the jobs, and the villages the units broker in (in the
    units' own order)."""

    units: list[BackboneUnit]
    villages: np.ndarray
    by_influence: np.ndarray
    bounds: np.ndarray
    broker_villages: np.ndarray


PARTNERS_JOB: Job = (0.0, None, True, 0.0)
"""The government partners' meetings as a job (their rate is worked out in the compiled
call, :func:`partner_rate`): all villages, by influence."""


def conveners(units: list[BackboneUnit]) -> Conveners:
    """The month's conveners (:class:`Conveners`): the units in :func:`rounds`, each round's
    jobs together, the government partners' round last."""
    groups = rounds(units)
    ordered = [unit for group in groups for unit in group]
    jobs = [unit.invitation() for unit in ordered] + [PARTNERS_JOB]
    _, villages, by_influence, _ = job_arrays(jobs)
    sizes = [len(group) for group in groups] + [1]
    return Conveners(
        ordered,
        villages,
        by_influence,
        np.cumsum([0, *sizes], dtype=np.int64),
        _village_codes([unit.brokerage()[1] for unit in units]),
    )


def job_arrays(jobs: list[Job]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Conveners' jobs as arrays: invitation rates, villages (-1: all), by influence,
    workshop rates."""
    return (
        np.array([job[0] for job in jobs], np.float64),
        _village_codes([job[1] for job in jobs]),
        np.array([job[2] for job in jobs], np.bool_),
        np.array([job[3] for job in jobs], np.float64),
    )


@njit(cache=True)
def convene_round(
    rng,
    rates,
    villages,
    by_influence,
    workshops,
    facilitated,
    sector,
    village,
    engagement,
    influence,
    represents,
    attended,
    position,
    u,
    v,
    active,
    mediated,
    weight,
    meeting_size,
    meeting_constants,
    counts_u,
    counts_v,
    tie_trust,
    degree,
    initial_trust,
    index,
    threads,
):
    """Kernel of :func:`convene_jobs`: the invitations (no draws when nobody is invited),
    then the meetings, where the attendees' mean trust (:meth:`Initiative.node_trust`,
    read for them only, through ``index``: :meth:`cimsim.population.Ties.index`) sets how
    far they move; ``threads``: :func:`cimsim.kernels.use_threads` (the same meetings).
    Returns each convener's number of attendees."""
    if not np.any((rates > 0) | (workshops > 0)):
        return np.zeros(rates.size, np.int64)  # nobody is invited: no draws
    members, groups, attendees = _convene(
        rng,
        rates,
        villages,
        by_influence,
        workshops,
        sector,
        village,
        engagement,
        influence,
        represents,
        meeting_size,
    )
    if members.size:
        node_trust = neighbourhood_mean_at(
            members, u, v, counts_u, counts_v, tie_trust, degree, initial_trust, index, threads
        )
        hold(
            members,
            groups,
            facilitated,
            u,
            v,
            active,
            mediated,
            weight,
            attended,
            position,
            node_trust,
            meeting_constants,
            index,
            threads,
        )
    return attendees


@njit(cache=True)
def _convene(
    rng,
    rates,
    villages,
    by_influence,
    workshops,
    sector,
    village,
    engagement,
    influence,
    represents,
    meeting_size,
):
    """Kernel of :func:`convene_jobs`: who comes to whose meetings, seated in groups
    (numbered across conveners). Returns the attendees of meetings, their groups, and
    each convener's number of attendees."""
    # the meeting pool: aware organisations and the engaged; and, where somebody holds
    # workshops, the residents who are not engaged (one pass over the stakeholders)
    workshops_held = np.any(workshops > 0)
    pool = np.empty(sector.size, np.bool_)
    workshop_pool = np.empty(sector.size, np.bool_)
    for i in range(sector.size):
        citizen, state = sector[i] == CITIZEN, engagement[i]
        pool[i] = (not citizen and state >= AWARE) or state == ENGAGED
        workshop_pool[i] = citizen and state != ENGAGED and workshops_held
    pool_rows, pool_at = _segments(pool, village, villages)
    resident_rows, resident_at = _segments(workshop_pool, village, villages)
    members = np.empty(pool_rows.size + resident_rows.size, np.int64)
    groups = np.empty(members.size, np.int64)
    attendees = np.zeros(rates.size, np.int64)
    k = offset = 0
    for j in range(rates.size):
        start = k
        invited = pool_rows[pool_at[j] : pool_at[j + 1]]
        if invited.size and rates[j] > 0:
            if by_influence[j]:
                w = influence[invited] + 0.1
                weights = represents[invited]
                chance = np.minimum(
                    rates[j] * w / (pairwise_sum(w * weights) / pairwise_sum(weights)), 1.0
                )
            else:
                chance = np.full(invited.size, min(rates[j], 1.0))
            draw = uniforms(rng, invited.size)
            for m in range(invited.size):
                if draw[m] < chance[m]:
                    members[k] = invited[m]
                    k += 1
        residents = resident_rows[resident_at[j] : resident_at[j + 1]]
        if workshops[j] > 0 and residents.size:
            chance_w = min(workshops[j], 1.0)
            draw = uniforms(rng, residents.size)
            for m in range(residents.size):
                if draw[m] < chance_w:
                    i = residents[m]
                    engagement[i] = max(engagement[i], AWARE)
                    members[k] = i
                    k += 1
        attendees[j] = k - start
        if k - start < 2:
            k = start  # nobody to meet
            continue
        group = _seat(rng, sector[members[start:k]] != CITIZEN, meeting_size) + offset
        groups[start:k] = group
        offset = group.max() + 1
    return members[:k], groups[:k], attendees


def convene(
    state: Initiative,
    rate: float,
    village: int | None,
    by_influence: bool,
    workshop_rate: float = 0.0,
    facilitated: bool = True,
) -> int:
    """Hold this month's meetings; return the number of attendees.

    ``rate`` is the chance that a member of the meeting pool is invited; ``workshop_rate``
    the chance that a resident of the village who is not engaged comes to a workshop.
    """
    return convene_jobs(state, [(rate, village, by_influence, workshop_rate)], facilitated)[0]


def rounds(units: list[BackboneUnit]) -> list[list[BackboneUnit]]:
    """The backbone units in convening rounds: units that serve different villages
    convene together (:func:`convene_jobs`), which gives the same draws and the same
    meetings as one unit after another; otherwise each unit convenes on its own."""
    villages = [unit.village for unit in units]
    if len(units) < 2 or None in villages or len(set(villages)) < len(villages):
        return [[unit] for unit in units]
    return [units]


def convene_units(state: Initiative, units: list[BackboneUnit]) -> None:
    """Every backbone unit convenes (:meth:`BackboneUnit.convene`), round by round
    (:func:`rounds`)."""
    for group in rounds(units):
        attendees = convene_jobs(state, [unit.invitation() for unit in group])
        for unit, n in zip(group, attendees, strict=True):
            unit.meetings_held += n


def partner_invitation(state: Initiative) -> float:
    """The invitation rate of the meetings engaged government units convene this month
    (0: they convene none), in proportion to the partners' share of coordination and to
    their influence, at low reach; they pay for them from their reserves."""
    pop = state.pop
    fade = state.partner_share()
    if fade <= 0:
        return 0.0
    return partner_rate(
        pop.sector, pop.engagement, pop.reserve, pop.influence, fade, partner_params(state)
    )


def partner_params(state: Initiative) -> tuple[float, ...]:
    """The constants of :func:`partner_rate`: what a partners' meeting costs them (at
    full share), the government's usual influence, the partners' reach, a central
    backbone's share of convening and the seats per unit of capacity."""
    cal = state.cal.backbone
    return constants(
        cal.partner_cost,
        state.cal.population.influence_government,
        cal.partner_reach,
        FUNCTION_SHARES["central"]["convene"],
        cal.seats_per_capacity,
    )


@njit(cache=True)
def partner_rate(sector, engagement, reserve, influence, fade, constants):
    """Kernel of :func:`partner_invitation`. The convening power is the engaged units'
    influence relative to the government's usual influence (a powerless champion cannot
    bring partners to the table); the rate is ``reach * power * full * fade * seats``
    (``full``: a central backbone's share of convening)."""
    partner_cost, usual_influence, reach, full, seats = constants
    cost = partner_cost * fade
    gov = np.empty(sector.size, np.int64)  # engaged units that can pay, in row order
    n_gov = units = 0
    for i in range(sector.size):
        if sector[i] == GOVERNMENT:
            units += 1
            if engagement[i] == ENGAGED and reserve[i] > cost:
                gov[n_gov] = i
                n_gov += 1
    gov = gov[:n_gov]
    if gov.size == 0:
        return 0.0
    usual = usual_influence * units
    share = min(1.0, pairwise_sum(influence[gov]) / max(usual, 1e-12))
    for i in gov:
        reserve[i] -= cost
    return reach * share * full * fade * seats


def convene_as_partners(state: Initiative) -> int:
    """Engaged government units convene (see :func:`partner_invitation`); their meetings
    are not facilitated. Returns the number of attendees."""
    rate = partner_invitation(state)
    return convene(state, rate, None, by_influence=True, facilitated=False) if rate > 0 else 0


def introductions(
    state: Initiative, jobs: list[tuple[float, int | None]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the pairs each broker introduces (see :func:`broker`); a job is a brokering
    capacity per unit of population served and the village served (None: all). Returns
    both ends of the pairs, job after job, and the jobs' bounds in them."""
    pop = state.pop
    return introduce(
        state.rng,
        *brokering(state, jobs),
        pop.engagement,
        pop.sector,
        pop.village,
    )


def brokering(
    state: Initiative, jobs: list[tuple[float, int | None]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """What :func:`introduce` needs for these jobs: their capacities and villages, the tie
    propensity of each sector, the broker rate and the residents' introduction rate."""
    return (
        np.array([capacity for capacity, _ in jobs], np.float64),
        _village_codes([village for _, village in jobs]),
        *broker_params(state.cal.backbone, state.cal.network),
    )


def broker_params(cal: BackboneCal, network: NetworkCal) -> tuple[np.ndarray, float, float]:
    """The constants of :func:`introduce`: the tie propensity of each sector, the broker
    rate and the residents' introduction rate."""
    return propensity_by_sector(network), float(cal.broker_rate), float(cal.broker_residents)


@njit(cache=True)
def introduce(
    rng, capacity, villages, sector_weight, broker_rate, residents_rate, engagement, sector, village
):
    """Kernel of :func:`introductions` (no draws when nobody brokers)."""
    if not np.any(capacity > 0):
        return np.empty(0, np.int64), np.empty(0, np.int64), np.zeros(capacity.size + 1, np.int64)
    return _introduce(
        rng,
        capacity,
        villages,
        engagement,
        sector,
        village,
        sector_weight,
        broker_rate,
        residents_rate,
    )


@njit(cache=True)
def _introduce(
    rng, capacity, villages, engagement, sector, village, sector_weight, broker_rate, residents_rate
):
    """Kernel of :func:`introductions`: each broker draws a Poisson number of pairs of
    engaged organisations, picked by tie propensity (a draw against the cumulative
    weights, as ``Generator.choice`` with ``p`` does), and keeps the cross-sector ones;
    each engaged resident is introduced to one organisation with a chance. Returns both
    ends of the pairs, broker after broker, and the brokers' bounds."""
    engaged_org = np.empty(sector.size, np.bool_)
    engaged_citizen = np.empty(sector.size, np.bool_)
    for i in range(sector.size):
        engaged, citizen = engagement[i] == ENGAGED, sector[i] == CITIZEN
        engaged_org[i] = engaged and not citizen
        engaged_citizen[i] = engaged and citizen
    org_rows, org_at = _segments(engaged_org, village, villages)
    cit_rows, cit_at = _segments(engaged_citizen, village, villages)
    first, second = np.empty(0, np.int64), np.empty(0, np.int64)
    bounds = np.zeros(capacity.size + 1, np.int64)
    for j in range(capacity.size):
        orgs = org_rows[org_at[j] : org_at[j + 1]]
        if orgs.size == 0 or capacity[j] <= 0:
            bounds[j + 1] = bounds[j]
            continue
        n_new = rng.poisson(capacity[j] * broker_rate * orgs.size)
        w = sector_weight[sector[orgs]]
        cdf = np.cumsum(w / pairwise_sum(w))
        cdf /= cdf[-1]
        picks = uniforms(rng, 2 * n_new)
        a = orgs[np.searchsorted(cdf, picks[:n_new], side="right")]
        b = orgs[np.searchsorted(cdf, picks[n_new:], side="right")]
        cross = sector[a] != sector[b]
        cits = cit_rows[cit_at[j] : cit_at[j + 1]]
        chance = min(1.0, capacity[j] * residents_rate)
        lucky = np.empty(cits.size, np.int64)
        n_lucky = 0
        draw = uniforms(rng, cits.size)
        for m in range(cits.size):
            if draw[m] < chance:
                lucky[n_lucky] = cits[m]
                n_lucky += 1
        partner = orgs[np.searchsorted(cdf, uniforms(rng, n_lucky), side="right")]
        first = np.concatenate((first, a[cross], lucky[:n_lucky]))
        second = np.concatenate((second, b[cross], partner))
        bounds[j + 1] = first.size
    return first, second, bounds


def broker(state: Initiative, capacity: float, village: int | None) -> int:
    """Introduce engaged stakeholders of different sectors to each other; return new ties.

    ``capacity`` is the brokering capacity per unit of population served. Engaged
    organisations meet other engaged organisations (Poisson draws per organisation);
    each engaged citizen is introduced to an engaged organisation with a fixed chance.
    """
    a, b, _ = introductions(state, [(capacity, village)])
    return state.ties.add(a, b, state.settings.initial_trust)


def broker_units(state: Initiative, units: list[BackboneUnit]) -> None:
    """Every backbone unit brokers (:meth:`BackboneUnit.broker_ties`); the new ties of all
    units are appended at once, in the order one unit after another would add them
    (who is introduced does not depend on the ties)."""
    a, b, bounds = introductions(state, [unit.brokerage() for unit in units])
    add_introduced(state, units, a, b, bounds)


def add_introduced(
    state: Initiative, units: list[BackboneUnit], a: np.ndarray, b: np.ndarray, bounds: np.ndarray
) -> None:
    """Tie the pairs the units introduced (as from :func:`introductions`)."""
    if a.size:
        added = state.ties.add_batches(a, b, bounds, state.settings.initial_trust)
        for unit, n in zip(units, added.tolist(), strict=True):
            unit.ties_brokered += n


@dataclass(eq=False)
class BackboneUnit:
    """The backbone organisation, or one part of it (core team, steering group, village
    coordination group), as the monthly schedule sees it.

    Its effective capacity is ``capacity * share * (funding_base + (1 - funding_base) *
    resources)``, split over the functions of its role (``FUNCTION_SHARES``). A village
    coordination group serves its own village (``served`` = 1 / villages): its rates per
    person are its capacity divided by that share. :class:`cimsim.agents.Backbone` is its
    Mesa face.
    """

    state: Initiative
    role: str
    share: float
    village: int | None = None
    served: float = 1.0
    meetings_held: int = 0
    ties_brokered: int = 0

    @property
    def effective_capacity(self) -> float:
        """Staff capacity this month after funding."""
        st = self.state
        base = st.cal.backbone.funding_base
        return st.backbone_capacity * self.share * (base + (1.0 - base) * st.resources)

    def function_capacity(self, function: str) -> float:
        """Capacity this unit gives to one function this month
        (:meth:`function_capacities`; inside a month's step worked out once a month,
        :meth:`cimsim.initiative.Initiative.unit_capacities`)."""
        return self.state.unit_capacities(self)[function]

    def function_capacities(self) -> dict[str, float]:
        """Capacity this unit gives to each function (``FUNCTIONS``) at its effective
        capacity now: its role's share of the function over the shares' total; without a
        measurement system, the measurement share goes to the other functions."""
        shares = FUNCTION_SHARES["central" if self.role == "backbone" else self.role]
        measuring = self.state.measurement_enabled
        total = _share_totals[self.role, measuring]
        capacity = self.effective_capacity
        return {
            function: 0.0
            if function == "measure" and not measuring
            else (capacity * shares.get(function, 0.0) / total if total else 0.0)
            for function in FUNCTIONS
        }

    def invitation(self) -> tuple[float, int | None, bool, float]:
        """What :func:`invite` needs for this unit's meetings: the invitation rate, the
        village, whether invitations go by influence, and the workshop rate."""
        cal = self.state.cal.backbone
        rate = self.function_capacity("convene") / self.served * cal.seats_per_capacity
        workshops = rate * cal.workshop_reach if self.role == "coordination group" else 0.0
        return rate, self.village, self.role == "steering group", workshops

    def convene(self) -> None:
        """Hold facilitated meetings (widened agenda bound, mediated trust, recruitment);
        a village coordination group also holds workshops for the residents of its village."""
        rate, village, by_influence, workshops = self.invitation()
        self.meetings_held += convene(
            self.state, rate, village, by_influence=by_influence, workshop_rate=workshops
        )

    def brokerage(self) -> tuple[float, int | None]:
        """Brokering capacity per unit of population served, and the village served."""
        return self.function_capacity("broker") / self.served, self.village

    def broker_ties(self) -> None:
        """Introduce engaged stakeholders of different sectors to each other."""
        self.ties_brokered += broker(self.state, *self.brokerage())


def form_units(state: Initiative, form: str, villages: int) -> list[BackboneUnit]:
    """The backbone units of a ``backbone.form`` (see ``FORMS``)."""
    if form == "distributed":
        return [
            BackboneUnit(state, "coordination group", 1.0 / villages, v, 1.0 / villages)
            for v in range(villages)
        ]
    return [BackboneUnit(state, role, share) for role, share in FORMS[form]]
