"""The stakeholders' state as arrays (one row per stakeholder) and the tie table.

Holding the state column-wise lets every monthly rule run vectorised over agents and
ties; the Mesa agents in :mod:`cimsim.agents` read and write their own row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cimsim.network import generate_ties
from cimsim.scenario import Scenario

GOVERNMENT, CITIZEN, BUSINESS, CIVIL_SOCIETY = 0, 1, 2, 3
SECTORS = ("government", "citizens", "businesses", "civil_society")
"""Sector names, indexed by the sector code."""

INACTIVE, AWARE, ENGAGED = 0, 1, 2

CAPACITY = np.array([1.0, 0.05, 0.6, 0.5])
"""Mean effort capacity per month by sector (a government unit = 1)."""
INFLUENCE = np.array([0.5, 0.05, 0.35, 0.3])
"""Mean influence by sector before champions are chosen."""
AGENDA_MEAN = np.array([0.5, 0.5, 0.3, 0.7])
"""Mean initial agenda position by sector (businesses and civil society pull apart)."""
AGENDA_SPREAD = 0.2
"""Standard deviation of initial agenda positions around the sector mean."""
POPULARITY_SKEW = 1.0
"""Zipf exponent of how popular issue areas are as personal preferences."""
THRESHOLD_SHAPE = (3.0, 5.0)
"""Beta distribution of engagement thresholds (Granovetter 1978)."""
INTERNSHIP_CAPACITY = 0.4
"""Effort capacity of a citizen on a paid internship (Mechelen's A-team)."""


@dataclass
class Ties:
    """Undirected ties (``u < v``) with trust, and this month's contact state."""

    n_nodes: int
    u: np.ndarray
    v: np.ndarray
    trust: np.ndarray
    active: np.ndarray
    weight: np.ndarray
    mediated: np.ndarray
    keys: np.ndarray
    _deg: np.ndarray | None = field(default=None, repr=False)

    _COLUMNS = ("u", "v", "trust", "active", "weight", "mediated")

    @classmethod
    def make(cls, n_nodes: int, u: np.ndarray, v: np.ndarray, trust: float) -> Ties:
        """Ties from endpoint arrays (``u < v``, unique), all starting at the same trust."""
        m = u.size
        return cls(
            n_nodes=n_nodes,
            u=u.astype(np.intp),
            v=v.astype(np.intp),
            trust=np.full(m, trust),
            active=np.zeros(m, bool),
            weight=np.zeros(m),
            mediated=np.zeros(m, bool),
            keys=np.sort(u.astype(np.int64) * n_nodes + v),
        )

    def __len__(self) -> int:
        return int(self.u.size)

    @property
    def degree(self) -> np.ndarray:
        """Ties per node (cached; ties are only ever appended through add)."""
        if self._deg is None or self._deg_size != self.u.size:
            self._deg = np.bincount(self.u, minlength=self.n_nodes) + np.bincount(
                self.v, minlength=self.n_nodes
            )
            self._deg_size = self.u.size
        return self._deg

    def add(self, u: np.ndarray, v: np.ndarray, trust: float) -> int:
        """Append new ties (brokered by the backbone); existing ties and loops are skipped.

        Returns the number of ties added.
        """
        lo, hi = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
        key = np.unique((lo * self.n_nodes + hi)[lo != hi])
        pos = np.searchsorted(self.keys, key)
        found = (pos < self.keys.size) & (self.keys[np.minimum(pos, self.keys.size - 1)] == key)
        key = key[~found]
        if key.size == 0:
            return 0
        self.keys = np.insert(self.keys, pos[~found], key)
        new = Ties.make(self.n_nodes, key // self.n_nodes, key % self.n_nodes, trust)
        for name in self._COLUMNS:
            setattr(self, name, np.concatenate((getattr(self, name), getattr(new, name))))
        if self._deg is not None:  # keep the cached degree current instead of recounting
            self._deg = self._deg + (
                np.bincount(new.u, minlength=self.n_nodes)
                + np.bincount(new.v, minlength=self.n_nodes)
            )
            self._deg_size = self.u.size
        return int(key.size)


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

    def __len__(self) -> int:
        return int(self.sector.size)

    @property
    def engaged(self) -> np.ndarray:
        """Boolean mask of engaged stakeholders."""
        return self.engagement == ENGAGED

    @classmethod
    def build(cls, scenario: Scenario, rng: np.random.Generator) -> tuple[Population, Ties]:
        """Draw the initial population and its network from the scenario and generator."""
        pop = scenario.population
        counts = [pop.government, pop.citizens, pop.businesses, pop.civil_society]
        # organisations first, then citizens: rows are stable across scales
        order = [GOVERNMENT, BUSINESS, CIVIL_SOCIETY, CITIZEN]
        sector = np.concatenate([np.full(counts[s], s, np.int8) for s in order])
        n = sector.size
        village = rng.integers(0, pop.villages, n).astype(np.int16)
        village[sector == GOVERNMENT] = np.arange(pop.government) % pop.villages

        capacity = CAPACITY[sector] * rng.lognormal(0.0, 0.3, n)
        influence = np.clip(INFLUENCE[sector] * rng.lognormal(0.0, 0.4, n), 0.0, 1.0)
        position = np.clip(AGENDA_MEAN[sector] + rng.normal(0.0, AGENDA_SPREAD, n), 0.0, 1.0)
        k = len(scenario.activities.areas)
        popularity = 1.0 / np.arange(1, k + 1) ** POPULARITY_SKEW
        preferred = rng.choice(k, size=n, p=popularity / popularity.sum()).astype(np.int16)
        threshold = rng.beta(THRESHOLD_SHAPE[0], THRESHOLD_SHAPE[1], n)
        reserve = np.full(n, 6.0 * scenario.preconditions.resources)

        engagement = np.zeros(n, np.int8)
        urgency = scenario.preconditions.urgency
        is_org = sector != CITIZEN
        engagement[is_org & (rng.random(n) < 0.3 + 0.5 * urgency)] = AWARE
        engagement[~is_org & (rng.random(n) < 0.1 * urgency)] = AWARE
        engagement[sector == GOVERNMENT] = np.maximum(engagement[sector == GOVERNMENT], AWARE)

        champion = np.zeros(n, bool)
        n_champ = min(scenario.preconditions.champions, int(is_org.sum()))
        if n_champ:
            orgs = np.flatnonzero(is_org)
            chosen = orgs[np.argsort(-influence[orgs], kind="stable")[:n_champ]]
            champion[chosen] = True
            influence[chosen] = scenario.preconditions.champion_strength
            engagement[chosen] = ENGAGED

        commitment = np.where(engagement == ENGAGED, 0.5, 0.0)
        commitment[champion] = np.maximum(0.5, scenario.preconditions.champion_strength)

        intern = np.zeros(n, bool)
        citizens = np.flatnonzero(sector == CITIZEN)
        n_intern = min(scenario.activities.internships, citizens.size)
        if n_intern:
            chosen = rng.choice(citizens, size=n_intern, replace=False)
            intern[chosen] = True
            capacity[chosen] = INTERNSHIP_CAPACITY
            engagement[chosen] = ENGAGED
            commitment[chosen] = 0.6

        u, v = generate_ties(
            rng, sector, village, scenario.network.mean_degree, scenario.network.within_group
        )
        ties = Ties.make(n, u, v, scenario.settings.initial_trust)
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
        )
        return state, ties
