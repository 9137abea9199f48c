"""Mutation fuzzing of :func:`verifier.verify`: a seeded mutator over every HC1 layer.

:mod:`loadtests.fuzz.target` builds a validly signed certificate and re-signs mutated claims;
:mod:`loadtests.fuzz.mutate` turns it into hostile inputs layer by layer (claims re-signed,
COSE headers re-signed, COSE bytes, compressed bytes, HC1 text);
:mod:`loadtests.fuzz.campaign` runs them and collects what matters (exceptions, reports the
encoder cannot write, slowest input, peak RSS). ``python -m loadtests.fuzz`` runs a long
campaign of the mutator, :mod:`loadtests.fuzz.coverage_guided` one of atheris (``make fuzz``
runs both); tests/verifier/test_mutation_fuzz.py runs a bounded one in CI.
"""
