"""The compiled part of boilercut; everything else is in pyproject.toml.

src/boilercut/_kernels.c holds the hot loops of scoring and of the site pass (plain C and
Python's own API). The extension is optional: where no C compiler is found the install
goes on without it, and boilercut runs its numpy code, which gives the same results,
slower (docs/speed.md). Declared here rather than in pyproject.toml, where setuptools
still calls `ext-modules` experimental.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "boilercut._kernels", ["src/boilercut/_kernels.c"], optional=True,
    # No fused multiply-adds: the loops must round as numpy and scipy do (bit-identical scores).
    extra_compile_args=["-O2", "-ffp-contract=off"],
)])
