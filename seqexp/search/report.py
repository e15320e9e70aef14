"""Reports at the search root: the sweep summary (summary.csv/md, comparison.png, seqexp.summary
.sweep), optimization_results.yaml (the best trial and its run directory), and Optuna's own
views drawn with optuna.visualization.matplotlib as PNG files (matplotlib is already a
dependency; plotly's PNG export would need kaleido and a browser).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import yaml

from seqexp.atomic import write_text

log = logging.getLogger(__name__)

RESULTS = "optimization_results.yaml"  # read by seqexp.summary.sweep for "Best Optuna trial"


def results(study) -> dict:
    from optuna.trial import TrialState

    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    found = {
        "name": "optuna",
        "study_name": study.study_name,
        "direction": study.direction.name.lower(),
        "trials": counts,
    }
    if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        best = study.best_trial
        found.update(
            best_trial=best.number,
            best_value=best.value,
            best_params=best.params,
            best_run=best.user_attrs.get("run_dir"),
        )
    return found


def figures(study, root: Path) -> list[Path]:
    """optimization_history, intermediate_values (the pruner's view), param_importances and
    parallel_coordinate PNGs; a view Optuna cannot draw yet (e.g. importances from one finished
    trial) is logged and left out."""
    import optuna.visualization.matplotlib as views
    from optuna.exceptions import ExperimentalWarning
    from optuna.importance import PedAnovaImportanceEvaluator

    from seqexp.reports.curves import plt, save_figure

    drawers = {
        "optimization_history": views.plot_optimization_history,
        "intermediate_values": views.plot_intermediate_values,
        # PED-ANOVA needs no scikit-learn (fANOVA, Optuna's default, does)
        "param_importances": lambda s: views.plot_param_importances(
            s, evaluator=PedAnovaImportanceEvaluator()
        ),
        "parallel_coordinate": views.plot_parallel_coordinate,
    }
    written = []
    warnings.filterwarnings("ignore", category=ExperimentalWarning)  # the matplotlib views
    for name, draw in drawers.items():
        try:
            ax = draw(study)
        except (ValueError, RuntimeError, ZeroDivisionError) as err:
            log.warning("No %s.png: %s", name, err)
            continue
        fig = (ax.flat[0] if hasattr(ax, "flat") else ax).figure
        fig.set_size_inches(10, 6)
        fig.tight_layout()
        save_figure(fig, root / f"{name}.png")
        plt.close(fig)
        written.append(root / f"{name}.png")
    return written


def write_reports(study, root: Path):
    """Everything at the search root; returns (the sweep Summary, the results dict)."""
    from seqexp.summary.sweep import summarize

    found = results(study)
    write_text(root / RESULTS, yaml.safe_dump(found, sort_keys=False))
    written = figures(study, root)
    summary = summarize(root)
    summary.files += [root / RESULTS, *written]
    return summary, found
