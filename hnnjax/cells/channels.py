"""Membrane mechanisms of the HNN cells (hnn-core's mod files, spec §3).

Each channel is an Equinox module holding per-node parameters (shape
``(n_nodes, 1)``, zero on zero-area nodes) and exposes

* ``init(v, ion)`` -> tuple of gate arrays at the initial voltage,
* ``current(v, s, ion)`` -> (i, g): density current (mA/cm², outward
  positive) and its slope conductance (S/cm²) at frozen gates,
* ``advance(v, s, dt, ion)`` -> gates after one ``cnexp`` step at ``v``.

``ion`` is a dict with the L5 calcium quantities ``cai`` (mM), ``eca`` (mV)
and ``ica`` (mA/cm²) where they exist.  Temperature is 37 °C (hnn-core's
``celsius``); NEURON's default reversal potentials ena = 50, ek = -77 mV.
"""
from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp

from .log64 import log
from .tables import RateTable

CELSIUS = 37.0
ENA = 50.0  # mV
EK = -77.0  # mV
# Mod-file constants under NEURON's legacy units (hnn-core uses them).
FARADAY_MOD = 96485.3  # C/mol, cad.mod
FARADAY_ION = 96485.309  # NEURON's ion/Nernst code
R_ION = 8.3134  # J/(mol·K)
CAO = 2.0  # mM, NEURON default cao0_ca_ion


def cnexp(x, xinf, tau, dt):
    """Exact exponential update with frozen rates (NEURON's ``cnexp``)."""
    return x + (1.0 - jnp.exp(-dt / tau)) * (xinf - x)


def nernst_eca(cai, celsius=CELSIUS):
    """Ca reversal potential, mV, from NEURON's legacy constants."""
    ktf = 1000.0 * R_ION * (celsius + 273.15) / FARADAY_ION
    return 0.5 * ktf * log(CAO / cai)


def _vtrap(x, y):
    if abs(x / y) < 1e-6:
        return y * (1.0 - x / y / 2.0)
    return x / (math.exp(x / y) - 1.0)


def _hh2_rates(v, celsius=CELSIUS):
    q10 = 3.0 ** ((celsius - 6.3 - 30.7) / 10.0)
    out = []
    for a, b in (
        (0.1 * _vtrap(-(v + 40.0), 10.0), 4.0 * math.exp(-(v + 65.0) / 18.0)),
        (0.07 * math.exp(-(v + 65.0) / 20.0), 1.0 / (math.exp(-(v + 35.0) / 10.0) + 1.0)),
        (0.01 * _vtrap(-(v + 55.0), 10.0), 0.125 * math.exp(-(v + 65.0) / 80.0)),
    ):
        out += [a / (a + b), 1.0 / (q10 * (a + b))]
    return out  # minf, mtau, hinf, htau, ninf, ntau


def _tadj(celsius=CELSIUS):
    return 2.3 ** ((celsius - 23.0 - 30.7) / 10.0)


def _km_rates(v):
    a = 0.001 * (v + 30.0) / (1.0 - math.exp(-(v + 30.0) / 9.0))
    b = -0.001 * (v + 30.0) / (1.0 - math.exp((v + 30.0) / 9.0))
    return [a / (a + b), 1.0 / _tadj() / (a + b)]  # ninf, ntau


def _ca_rates(v):
    a = 0.055 * (-27.0 - v) / (math.exp((-27.0 - v) / 3.8) - 1.0)
    b = 0.94 * math.exp((-75.0 - v) / 17.0)
    mtau, minf = 1.0 / _tadj() / (a + b), a / (a + b)
    a = 0.000457 * math.exp((-13.0 - v) / 50.0)
    b = 0.0065 / (math.exp((-v - 15.0) / 28.0) + 1.0)
    htau, hinf = 1.0 / _tadj() / (a + b), a / (a + b)
    return [minf, hinf, mtau, htau]


def _cat_rates(v):
    minf = 1.0 / (1.0 + math.exp((-v - 56.0) / 6.2))
    mtau = 0.204 + 0.333 / (math.exp((v + 15.8) / 18.2) + math.exp((-v - 131.0) / 16.7))
    hinf = 1.0 / (1.0 + math.exp((v + 80.0) / 4.0))
    if v < -81.0:
        htau = 0.333 * math.exp((v + 466.0) / 66.6)
    else:
        htau = 9.32 + 0.333 * math.exp((-v - 21.0) / 10.5)
    return [minf, mtau, hinf, htau]


def _ar_rates(v):
    minf = 1.0 / (1.0 + math.exp((v + 75.0) / 5.5))
    mtau = 1.0 / (math.exp(-14.6 - 0.086 * v) + math.exp(-1.87 + 0.07 * v))
    return [minf, mtau]


class HH2(eqx.Module):
    """Na, delayed-rectifier K and leak (hh2.mod); all cells."""

    gnabar: jnp.ndarray  # S/cm²
    gkbar: jnp.ndarray  # S/cm²
    gl: jnp.ndarray  # S/cm²
    el: jnp.ndarray  # mV
    table: RateTable

    def __init__(self, gnabar, gkbar, gl, el):
        self.gnabar, self.gkbar, self.gl, self.el = gnabar, gkbar, gl, el
        self.table = RateTable.build(_hh2_rates, -100.0, 100.0, 200)

    def init(self, v, ion):
        minf, _, hinf, _, ninf, _ = self.table(v)
        return (minf, hinf, ninf)

    def current(self, v, s, ion):
        m, h, n = s
        gna = self.gnabar * m * m * m * h
        gk = self.gkbar * n * n * n * n
        i = gna * (v - ENA) + gk * (v - EK) + self.gl * (v - self.el)
        return i, gna + gk + self.gl

    def advance(self, v, s, dt, ion):
        minf, mtau, hinf, htau, ninf, ntau = self.table(v)
        m, h, n = s
        return (cnexp(m, minf, mtau, dt), cnexp(h, hinf, htau, dt), cnexp(n, ninf, ntau, dt))


class Km(eqx.Module):
    """Slow muscarinic K (km.mod); pyramidal cells.  gbar in pS/µm²."""

    gbar: jnp.ndarray
    table: RateTable

    def __init__(self, gbar):
        self.gbar = gbar
        self.table = RateTable.build(_km_rates, -120.0, 100.0, 199)

    def init(self, v, ion):
        return (self.table(v)[0],)

    def current(self, v, s, ion):
        g = 1e-4 * _tadj() * self.gbar * s[0]
        return g * (v - EK), g

    def advance(self, v, s, dt, ion):
        ninf, ntau = self.table(v)
        return (cnexp(s[0], ninf, ntau, dt),)


class CaHVA(eqx.Module):
    """High-voltage-activated Ca (ca.mod); L5 pyramidal.  gbar in pS/µm²."""

    gbar: jnp.ndarray
    table: RateTable

    def __init__(self, gbar):
        self.gbar = gbar
        self.table = RateTable.build(_ca_rates, -120.0, 100.0, 199)

    def init(self, v, ion):
        minf, hinf, _, _ = self.table(v)
        return (minf, hinf)

    def current(self, v, s, ion):
        m, h = s
        g = 1e-4 * _tadj() * self.gbar * m * m * h
        return g * (v - ion["eca"]), g

    def ica(self, v, s, ion):
        return self.current(v, s, ion)[0]

    def advance(self, v, s, dt, ion):
        minf, hinf, mtau, htau = self.table(v)
        m, h = s
        return (cnexp(m, minf, mtau, dt), cnexp(h, hinf, htau, dt))


class Cad(eqx.Module):
    """Submembrane Ca shell (cad.mod): a concentration, no current."""

    taur: float = eqx.field(static=True, default=20.0)  # ms (hnn-core's value)
    depth: float = eqx.field(static=True, default=0.1)  # µm
    cainf: float = eqx.field(static=True, default=1e-4)  # mM

    def init(self, v, ion):
        return (jnp.full_like(v, self.cainf),)

    def current(self, v, s, ion):
        z = jnp.zeros_like(v)
        return z, z

    def advance(self, v, s, dt, ion):
        drive = jnp.maximum(-1e4 * ion["ica"] / (2.0 * FARADAY_MOD * self.depth), 0.0)
        ca_inf = self.cainf + self.taur * drive
        return (ca_inf + (s[0] - ca_inf) * jnp.exp(-dt / self.taur),)


class Kca(eqx.Module):
    """Ca-activated K (kca.mod); depends on cai only.  gbar in pS/µm²."""

    gbar: jnp.ndarray

    def _rates(self, cai):
        a = 0.01 * cai
        return a / (a + 0.02), 1.0 / _tadj() / (a + 0.02)

    def init(self, v, ion):
        return (self._rates(jnp.broadcast_to(ion["cai"], v.shape))[0],)

    def current(self, v, s, ion):
        g = 1e-4 * _tadj() * self.gbar * s[0]
        return g * (v - EK), g

    def advance(self, v, s, dt, ion):
        ninf, ntau = self._rates(ion["cai"])
        return (cnexp(s[0], ninf, ntau, dt),)


class CaT(eqx.Module):
    """Low-threshold T-type Ca, non-specific current at 125 mV (cat.mod)."""

    gbar: jnp.ndarray  # S/cm²
    table: RateTable

    def __init__(self, gbar):
        self.gbar = gbar
        self.table = RateTable.build(_cat_rates, -120.0, 40.0, 641)

    def init(self, v, ion):
        _, _, hinf, _ = self.table(v)
        return (jnp.zeros_like(v), hinf)  # INITIAL sets m = 0

    def current(self, v, s, ion):
        m, h = s
        g = self.gbar * m * m * h
        return g * (v - 125.0), g

    def advance(self, v, s, dt, ion):
        minf, mtau, hinf, htau = self.table(v)
        m, h = s
        return (cnexp(m, minf, mtau, dt), cnexp(h, hinf, htau, dt))


class Ar(eqx.Module):
    """Anomalous rectifier (h-like) at -35 mV (ar.mod)."""

    gbar: jnp.ndarray  # S/cm²
    table: RateTable

    def __init__(self, gbar):
        self.gbar = gbar
        self.table = RateTable.build(_ar_rates, -120.0, 40.0, 641)

    def init(self, v, ion):
        return (jnp.full_like(v, 0.25),)  # INITIAL sets m = 0.25

    def current(self, v, s, ion):
        g = self.gbar * s[0]
        return g * (v + 35.0), g

    def advance(self, v, s, dt, ion):
        minf, mtau = self.table(v)
        return (cnexp(s[0], minf, mtau, dt),)
