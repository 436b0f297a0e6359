"""Hypothesis profiles for the fuzz pass: `ci` (the default) keeps the whole folder under a minute on
two cores; HYPOTHESIS_PROFILE=long searches harder on a quiet machine."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    database=None,  # nothing written into the working tree
    print_blob=True,  # a failure prints the blob that replays it (@reproduce_failure)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("long", parent=settings.get_profile("ci"), max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Float strategies say allow_subnormal=False: the demo runtime turns on torch.set_flush_denormal(True)
# in the thread that runs demos (the main thread, in this suite), after which hypothesis refuses to
# generate subnormal floats at all.
