"""Command line: ``sim run | validate | report | scenarios | strategies | graph |
calibrate | optimise``.

Configuration errors print one line naming the field, the value and what is
allowed, and exit with status 2 (no traceback); so do a misused option and a
file or folder that cannot be read or written. Ctrl-C stops the workers and
exits with status 130, saying how to resume. Results go under results/.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sim.cli_search import cmd_calibrate, cmd_optimise
from sim.config import ConfigError, parse_value

__all__ = ["main"]

log = logging.getLogger("sim")


def interrupted(kept: str) -> int:
    """Ctrl-C: say what was kept and how to resume; exit status 130."""
    print(f"interrupted: the workers are stopped and {kept}; run the same command again "
          "to resume", file=sys.stderr)
    return 130


def _overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise ConfigError("--set", pair, "key=value")
        key, value = pair.split("=", 1)
        out[key.strip()] = parse_value(value.strip())
    return out


def _summary_lines(kpis) -> list[str]:
    from sim.metrics import KPIS, horizon_value

    lines = [f"{len(kpis)} days simulated; end-of-horizon levels and horizon totals:"]
    for k in KPIS:
        value = horizon_value(kpis, k.name)
        what = "level" if k.kind == "stock" else "total"
        lines.append(f"  {k.name:22s} {value:>18,.0f} {k.unit} ({what})")
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    if args.experiment:
        return _run_experiment_file(args)
    from sim.model import EcosystemModel
    from sim.results import check_single_run_out, locked, safe_name, write_single_run

    overrides = _overrides(args.set)
    if args.days < 1:
        raise ConfigError("--days", args.days, "an integer >= 1")
    if args.pdf or args.xlsx or args.lang != "en":
        raise ConfigError("--pdf/--xlsx/--lang", "given", "used with an experiment file only "
                          "(a single run writes no report)")
    model = EcosystemModel(args.scenario, seed=args.seed, overrides=overrides)
    out = Path(args.out or Path("results") / safe_name(args.name or Path(args.scenario).stem))
    with locked(out):
        check_single_run_out(out, args.fresh)
        kpis = model.run(args.days, progress=not args.quiet)
        write_single_run(out, model, kpis, overrides)
    print("\n".join(_summary_lines(kpis)))
    print(f"results written to {out}/ (kpis.parquet, ledger.parquet, manifest.json)")
    return 0


def _run_experiment_file(args: argparse.Namespace) -> int:
    """Validate, run, print the ranking sentence, the verdicts and the ranking, write the
    report; 1 if any cell failed."""
    from sim.experiment import load_experiment, run_experiment
    from sim.report import write_report
    from sim.report.i18n import language, t
    from sim.report.ranking import ranking_lines, top_sentences
    from sim.report.robustness import robustness_lines
    from sim.report.verdicts import report_points, verdicts
    from sim.results import safe_name

    if args.no_report and (args.pdf or args.xlsx):
        raise ConfigError("--no-report", "given with --pdf/--xlsx", "one or the other")
    spec = load_experiment(args.experiment, _overrides(args.set), args.days, args.replications)
    out = Path(args.out) if args.out else Path("results") / safe_name(args.name or spec.name)
    cells = len(spec.cells())
    log.info("%s: %s, %d days -> %s", spec.name, spec.shape(), spec.days, out)
    try:
        results = run_experiment(spec, out=out, executor=args.executor, workers=args.workers,
                                 scheduler=args.scheduler, quiet=args.quiet, fresh=args.fresh)
    except KeyboardInterrupt:
        return interrupted(f"the finished cells kept in {out}/")
    with language(args.lang):  # the console speaks the report's language
        if not results.summary.empty:
            print("\n".join(top_sentences(results) + verdicts(results)
                            + robustness_lines(results)))
            labels = spec.point_labels()
            for point in report_points(results):
                where = t("v.at", label=labels[point]) if labels[point] else ""
                print(t("console.ranking", where=where))
                print("\n".join(ranking_lines(results, point)))
            if not args.no_report:
                print(t("console.report", path=write_report(out, **_report_options(args))))
        print(t("console.results", out=out))
    if results.failed:
        print(f"{len(results.failed)} of {cells} cells failed; see {out}/cells/*.error.txt")
        return 1
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    import networkx as nx

    from sim.model import EcosystemModel

    model = EcosystemModel(args.scenario, seed=args.seed, overrides=_overrides(args.set))
    graph = model.graph
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(graph, args.out)
    kinds: dict[str, int] = {}
    for _, data in graph.nodes(data=True):
        kinds[data["kind"]] = kinds.get(data["kind"], 0) + 1
    print(f"wrote {args.out}: {graph.number_of_nodes()} nodes "
          f"({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}), "
          f"{graph.number_of_edges()} edges")
    return 0


def _chain_table(sc) -> list[str]:
    """The city's chains as configured: real payee counts (``payee_counts``), everyday
    payments (per payer per day, mean yuan) and bills (kind, mean yuan, schedule)."""
    from sim.agents.merchants import payee_counts
    from sim.scenarios.catalog import CHAIN_CATEGORY, CHAINS

    pop = sc.population
    sample = f", {pop.agents:,} simulated" if pop.agents not in (None, pop.customers) else ""
    lines = [f"{sc.name}: {pop.customers:,} customers{sample}; payees are the city's "
             "(payees/100k x customers / 100,000, at least 1)",
             f"{'chain':20s} {'category':22s} {'payees':>7s} {'kind':12s} {'/100k':>6s} "
             f"{'pay/day':>7s} {'amount':>8s} {'bill':>8s} {'bill amt':>8s} "
             f"{'schedule':>14s} {'bank acq':>8s}"]
    for c, count in zip(CHAINS, payee_counts(sc), strict=True):
        p, b = sc.chains[c], sc.chains[c].bill
        everyday = f"{p.amount_mean_yuan:>8,.0f}" if p.rate_per_day > 0 else f"{'-':>8s}"
        bill, when = f"{'-':>8s}", "-"
        if b.kind != "none":
            bill = f"{b.amount_mean_yuan:>8,.0f}"
            when = (f"every {b.period_days} d" if b.kind == "periodic"
                    else f"{b.rate_per_day:g}/payer/d")
        lines.append(f"{c:20s} {CHAIN_CATEGORY[c]:22s} {count:>7,} "
                     f"{'institutions' if p.institutional else 'merchants':12s} "
                     f"{p.payees_per_100k:>6g} {p.rate_per_day:>7g} {everyday} {b.kind:>8s} "
                     f"{bill} {when:>14s} {p.acquirer.bank:>8.0%}")
    lines.append("amount: mean yuan of an everyday payment (pay/day per payer); bill amt: "
                 "mean yuan of a bill; bank acq: share of payees acquired by the bank at day 0")
    return lines


def cmd_scenarios(args: argparse.Namespace) -> int:
    from sim.scenarios import load_scenario, scenario_names
    from sim.scenarios.catalog import CHAIN_CATEGORY, CHAINS

    overrides = _overrides(args.set)
    if not args.name:
        for name in scenario_names():
            sc = load_scenario(name, overrides)
            print(f"{name:12s} {sc.population.customers:>9,} customers  {sc.description}")
        print("chains: " + ", ".join(f"{c} ({CHAIN_CATEGORY[c]})" for c in CHAINS))
        return 0
    sc = load_scenario(args.name, overrides)
    if args.chains:
        print("\n".join(_chain_table(sc)))
        return 0
    print(f"{sc.name}: {sc.description}")
    print(f"customers: {sc.population.customers:,}; segments: {', '.join(sc.segments)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.experiment.checks import estimate, largest_sample
    from sim.experiment.spec import load_experiment
    from sim.scenarios import load_scenario

    if _has_table(args.file, "targets"):
        from sim.calibration import load_calibration

        cal = load_calibration(args.file)
        print(f"{args.file}: valid calibration ({len(cal.parameters)} parameters, "
              f"{len(cal.all_targets)} targets, {cal.days} days, scenario {cal.scenario}); "
              f"run it with `sim calibrate {args.file}`")
        return 0
    if _has_table(args.file, "optimise"):
        from sim.optimisation import load_optimisation

        opt = load_optimisation(args.file)
        world = opt.experiment
        print(f"{args.file}: valid optimisation ({len(opt.levers)} levers, {world.days} days, "
              f"scenario {world.scenario}); run it with `sim optimise {args.file}`")
        return 0
    spec = load_experiment(args.file)  # builds every cell's scenario and strategies
    cells = spec.cells()
    base = load_scenario(spec.scenario, spec.overrides).population
    customers = largest_sample(base, [c.overrides for c in cells])
    print(f"{args.file}: valid ({spec.shape()}, {spec.days} days, scenario {spec.scenario})")
    print(f"estimate: {estimate(len(cells), spec.days, customers).describe()}")
    return 0


def _has_table(path: str, table: str) -> bool:
    """A readable TOML file with a top-level ``table``: ``[optimise]`` for ``sim optimise``,
    ``[targets]`` for ``sim calibrate``; any other file is left to the experiment reader,
    whose errors name the experiment."""
    from sim.config import read_toml

    try:
        return table in read_toml(path, "experiment", "experiment file")
    except ConfigError:
        return False


def _report_options(args: argparse.Namespace) -> dict:
    return {"pdf": args.pdf, "xlsx": args.xlsx, "lang": args.lang}


def cmd_report(args: argparse.Namespace) -> int:
    from sim.report import write_report

    path = write_report(Path(args.out_dir), **_report_options(args))
    print(f"report written to {path}")
    return 0


def cmd_strategies(args: argparse.Namespace) -> int:
    from sim.report.strategy_help import strategy_lines

    print("\n".join(strategy_lines(args.kind)))
    return 0


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    from sim.report.i18n import LANGUAGES

    parser.add_argument("--pdf", action="store_true",
                        help="also write report.pdf: A4 pages with the question, verdicts, "
                             "tables and figures")
    parser.add_argument("--xlsx", action="store_true",
                        help="also write report.xlsx: the report's tables, one sheet each")
    parser.add_argument("--lang", choices=LANGUAGES, default="en",
                        help="language of the report (variant names stay as given)")


def _sub(sub, name: str, what: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with ``examples``."""
    return sub.add_parser(name, help=what, description=what, epilog="examples:\n" + examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


class _Parser(argparse.ArgumentParser):
    """Misused options: one line and status 2, like every other user error."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = _sub(sub, "run", "run an experiment file, or one model with --scenario",
               "  sim run experiments/demo.toml\n"
               "  sim run experiments/demo.toml --replications 20 --pdf --xlsx --lang zh\n"
               "  sim run experiments/demo.toml --set population.agents=20000 --out results/x\n"
               "  sim run --scenario city --days 90 --set population.customers=50000")
    run.add_argument("experiment", nargs="?", help="experiment TOML (experiments/*.toml)")
    run.add_argument("--scenario", default="city", help="scenario for a single run")
    run.add_argument("--days", type=int, default=None, help="horizon in days")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="scenario override")
    run.add_argument("--name", help="name of the results folder")
    run.add_argument("--out", help="results folder (default results/<name>)")
    run.add_argument("--replications", type=int, default=None)
    run.add_argument("--executor", choices=("serial", "processes", "dask"), default="processes")
    run.add_argument("--workers", type=int, default=None)
    run.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://host:8786")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--fresh", action="store_true",
                     help="delete the results already in --out (another experiment's, or "
                          "this one's from other code) instead of refusing the folder")
    run.add_argument("--no-report", action="store_true",
                     help="write the tables only (build the report later: sim report OUT)")
    _add_report_options(run)
    run.set_defaults(func=cmd_run)

    val = _sub(sub, "validate", "check an experiment file without running it",
               "  sim validate experiments/demo.toml")
    val.add_argument("file")
    val.set_defaults(func=cmd_validate)

    rep = _sub(sub, "report", "(re)build report.html from a results folder",
               "  sim report results/demo\n"
               "  sim report results/demo --pdf --xlsx\n"
               "  sim report results/demo --lang zh --pdf")
    rep.add_argument("out_dir")
    _add_report_options(rep)
    rep.set_defaults(func=cmd_report)

    scn = _sub(sub, "scenarios", "list scenarios, or describe one",
               "  sim scenarios\n  sim scenarios city --chains\n"
               "  sim scenarios city --chains --set population.customers=1000000")
    scn.add_argument("name", nargs="?")
    scn.add_argument("--chains", action="store_true",
                     help="print the chain table: the city's payee counts, amounts and bills")
    scn.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="scenario override, e.g. population.customers=1000000")
    scn.set_defaults(func=cmd_scenarios)

    stg = _sub(sub, "strategies", "list the strategy kinds with their parameters, units, "
               "defaults and allowed values",
               "  sim strategies\n  sim strategies fee_waiver")
    stg.add_argument("kind", nargs="?", help="one strategy kind (default: all)")
    stg.set_defaults(func=cmd_strategies)

    gr = _sub(sub, "graph", "export the ecosystem graph as GraphML",
              "  sim graph city --out results/city.graphml")
    gr.add_argument("scenario")
    gr.add_argument("--out", required=True, help="FILE.graphml")
    gr.add_argument("--seed", type=int, default=0)
    gr.add_argument("--set", action="append", metavar="KEY=VALUE")
    gr.set_defaults(func=cmd_graph)

    cal = _sub(sub, "calibrate", "fit the city to a branch's observed KPIs and past pilots",
               "  sim calibrate experiments/calibration/branch.toml\n"
               "  sim calibrate branch.toml --trials 200 --out results/branch --executor serial")
    cal.add_argument("file", help="calibration TOML (docs/CALIBRATION.md)")
    cal.add_argument("--out", help="results folder (default results/<name>); a rerun resumes")
    cal.add_argument("--trials", type=int, default=None, help="replaces search.trials")
    cal.add_argument("--executor", choices=("serial", "processes", "dask"), default="processes")
    cal.add_argument("--workers", type=int, default=None)
    cal.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://host:8786")
    cal.add_argument("--quiet", action="store_true", help="no progress bar")
    cal.add_argument("--fresh", action="store_true",
                     help="delete this folder's previous calibration results first")
    cal.set_defaults(func=cmd_calibrate)

    opt = _sub(sub, "optimise", "split a budget among levers under noise (TPE search, "
               "Kim-Nelson selection)",
               "  sim optimise experiments/budget_split_optimise.toml\n"
               "  sim optimise budget_split_optimise.toml --out results/split --executor serial")
    opt.add_argument("file", help="optimisation TOML (docs/EXPERIMENTS.md)")
    opt.add_argument("--out", help="results folder (default results/<name>); a rerun resumes")
    opt.add_argument("--set", action="append", metavar="KEY=VALUE", help="scenario override")
    opt.add_argument("--executor", choices=("serial", "processes", "dask"), default="processes")
    opt.add_argument("--workers", type=int, default=None)
    opt.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://host:8786")
    opt.add_argument("--quiet", action="store_true", help="no progress bar")
    opt.add_argument("--fresh", action="store_true",
                     help="delete this folder's previous optimisation runs first")
    opt.set_defaults(func=cmd_optimise)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) == "run" and not args.experiment and args.days is None:
        args.days = 365
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder that cannot be read or written
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
