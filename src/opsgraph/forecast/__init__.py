"""Load forecasting: the forecaster contract, baselines, Holt-Winters and conformal intervals.

Forecasters are registered by name in the `opsgraph.forecasters` entry-point group
(`registry.py`); see docs/forecasting.md.
"""

from opsgraph.forecast.base import Forecast, Forecaster
from opsgraph.forecast.conformal import Conformal
from opsgraph.forecast.ets import HoltWinters
from opsgraph.forecast.registry import available, create
from opsgraph.forecast.seasonal import Naive, SeasonalNaive

__all__ = [
    "Conformal",
    "Forecast",
    "Forecaster",
    "HoltWinters",
    "Naive",
    "SeasonalNaive",
    "available",
    "create",
]
