"""The `tinygrad-edu` command line.

    tinygrad-edu demo            train a scalar MLP on two moons (the scalar engine at work)
    tinygrad-edu lessons         list the lessons
    tinygrad-edu lesson N        step through lesson N
    tinygrad-edu train EXAMPLE   train one of the book's examples
    tinygrad-edu graph EXPR      draw the graph of a scalar expression
    tinygrad-edu run SCRIPT.py   run an unmodified PyTorch script on tinygrad_edu
    tinygrad-edu bench           run the benchmarks

Every subcommand is a small function taking the parsed arguments and returning an exit code;
bad usage prints the usage and exits with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys

# Subcommands that later work fills in: what each will do, said honestly until it exists.
COMING: dict[str, str] = {}


def cmd_demo(args: argparse.Namespace) -> int:
    """Train a scalar MLP (2-16-16-1) on two moons with the Value engine and report accuracy."""
    from tinygrad_edu.examples import train_moons

    if args.steps <= 0:
        print(f"tinygrad-edu demo: --steps must be positive, got {args.steps}", file=sys.stderr)
        return 2
    train_moons(steps=args.steps, seed=args.seed, out=sys.stdout)
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """Draw the graph of a scalar expression (Values labelled with the variable names)."""
    from tinygrad_edu import viz

    def fail(message: str, code: int) -> int:
        print(f"tinygrad-edu graph: {message}", file=sys.stderr)
        return code

    if args.max_nodes < 1:
        return fail(f"--max-nodes must be positive, got {args.max_nodes}", 2)
    try:
        root = viz.value_from_expression(args.expr, viz.parse_bindings(args.at))
        root.label = root.label or "out"
        root.backward()
        graph = viz.draw_graph(root, kind=args.kind, collapse=args.collapse,
                               max_nodes=args.max_nodes)
        print(viz.render(graph, args.output))
        if args.steps:
            print(viz.save_steps(root, args.steps, collapse=args.collapse,
                                 max_nodes=args.max_nodes))
    except (ValueError, ArithmeticError) as e:  # bad expression, --at, suffix, or math (log(-1))
        return fail(str(e), 2)
    except RuntimeError as e:                   # no `dot`: the DOT source was kept
        return fail(str(e), 1)
    return 0


def bench_dir():
    """The benchmark scripts: bench/ of a source checkout, or tinygrad_edu/_bench when installed."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("tinygrad_edu._bench")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "bench"


def cmd_bench(args: argparse.Namespace) -> int:
    """List the benchmarks, or run one (or all) in a fresh Python, passing options through."""
    import subprocess

    scripts = {p.stem.removeprefix("bench_"): p for p in sorted(bench_dir().glob("bench_*.py"))}
    if not args.name:
        print("Benchmarks (each prints our time, the reference's, and the ratio):")
        for name, path in scripts.items():
            doc = path.read_text().split('"""')[1].strip().splitlines()[0] if '"""' in \
                path.read_text() else ""
            print(f"  {name:16s} {doc}")
        print("Run one with `tinygrad-edu bench NAME [options]`, or all with `tinygrad-edu bench "
              "all`. They need torch==2.13.0 (and micrograd for `scalar`) installed.")
        return 0
    names = list(scripts) if args.name == "all" else [args.name]
    for name in names:
        if name not in scripts:
            print(f"tinygrad-edu bench: no benchmark {name!r}; choose from "
                  f"{', '.join(scripts)} or all", file=sys.stderr)
            return 2
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, str(scripts[name]), *args.rest])
        if code:
            return code
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a PyTorch script with `import torch` meaning tinygrad_edu; exit with its status."""
    from tinygrad_edu.runner import run_script

    return run_script(args.script, args.args)


def cmd_lessons(args: argparse.Namespace) -> int:
    """List the lessons with their numbers and titles."""
    from tinygrad_edu.lessons import list_command

    return list_command()


def cmd_lesson(args: argparse.Namespace) -> int:
    """Step through lesson N cell by cell, or write it as a notebook (--notebook)."""
    from tinygrad_edu.lessons import lesson_command

    color = True if args.color else False if args.no_color else None
    return lesson_command(args.number, start=args.start, pause=not args.no_pause,
                          notebook=args.notebook, force=args.force, out_dir=args.out,
                          color=color)


def cmd_train(args: argparse.Namespace) -> int:
    """Train one of the book's examples; bad options exit 2, missing data exits 1."""
    from tinygrad_edu.examples import DataError, ExampleError, train

    try:
        train(args.example, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
              device=args.device, seed=args.seed, model=args.model, limit=args.limit,
              out_dir=args.out, progress=True)
    except ExampleError as e:
        print(f"tinygrad-edu train: {e}", file=sys.stderr)
        return 2
    except DataError as e:
        print(f"tinygrad-edu train {args.example}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tinygrad-edu train: interrupted; nothing was saved", file=sys.stderr)
        return 130
    return 0


def cmd_coming(args: argparse.Namespace) -> int:
    print(f"tinygrad-edu {args.command}: {COMING[args.command]} is not built yet; "
          "it arrives with a later issue.")
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="An educational deep-learning framework you can read end to end.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="train a scalar MLP on two moons")
    demo.add_argument("--steps", type=int, default=100, help="SGD steps (default 100)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=cmd_demo)
    graph = sub.add_parser("graph", help="draw the graph of a scalar expression",
                           description='Draw e.g. "x**2 + y**3" --at x=2,y=3 (an expression '
                           'starting with "-" goes after "--").')
    graph.add_argument("expr", help="numbers, names, + - * / **, exp log tanh sigmoid relu "
                       "sqrt abs")
    graph.add_argument("--at", action="append", default=[], metavar="x=2,y=3",
                       help="values of the names in EXPR")
    graph.add_argument("--kind", choices=("forward", "backward"), default="forward")
    graph.add_argument("-o", "--output", default="graph.svg",
                       help="picture to write: .svg, .png, .pdf or .dot (default graph.svg)")
    graph.add_argument("--steps", metavar="DIR_OR_HTML",
                       help="also write backprop step by step: a folder of SVGs or a .html page")
    graph.add_argument("--collapse", action="store_true", help="merge repeated structures")
    graph.add_argument("--max-nodes", type=int, default=200, help="most nodes drawn (200)")
    graph.set_defaults(func=cmd_graph)
    run = sub.add_parser("run", help="run an unmodified PyTorch script on tinygrad_edu",
                         description="Run SCRIPT.py with `import torch` (torch.nn, torch.optim, "
                         "torch.utils.data, ...) resolved to tinygrad_edu; ARGS go to the script.")
    run.add_argument("script", metavar="SCRIPT.py")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    run.set_defaults(func=cmd_run)
    lessons = sub.add_parser("lessons", help="list the lessons")
    lessons.set_defaults(func=cmd_lessons)
    lesson = sub.add_parser(
        "lesson", help="step through lesson N cell by cell",
        description="Show lesson N cell by cell: text, code, its output; Enter goes on, "
        "q + Enter quits. Pictures go to --out.")
    lesson.add_argument("number", type=int, metavar="N", help="the lesson's number "
                        "(see `tinygrad-edu lessons`)")
    lesson.add_argument("--no-pause", action="store_true", help="run straight through; "
                        "stop with exit code 1 if a cell fails")
    lesson.add_argument("--from", dest="start", type=int, default=1, metavar="K",
                        help="start at cell K (earlier code cells run quietly first)")
    lesson.add_argument("--notebook", nargs="?", const="", metavar="PATH",
                        help="write the lesson as a Jupyter notebook instead of stepping "
                        "(default ./NN_name.ipynb; PATH may be a folder)")
    lesson.add_argument("--force", action="store_true", help="let --notebook overwrite a file")
    lesson.add_argument("--out", metavar="DIR", help="folder for the lesson's pictures "
                        "(default ./tinygrad_edu_out/lesson_NN)")
    lesson.add_argument("--color", action="store_true", help="colours even when not a terminal")
    lesson.add_argument("--no-color", action="store_true", help="no colours")
    lesson.set_defaults(func=cmd_lesson)
    bench = sub.add_parser("bench", help="run the benchmarks against PyTorch and micrograd",
                           description="Without NAME, list the benchmarks; `all` runs every one.")
    bench.add_argument("name", nargs="?", metavar="NAME")
    bench.add_argument("rest", nargs=argparse.REMAINDER, metavar="OPTIONS")
    bench.set_defaults(func=cmd_bench)
    from tinygrad_edu.examples import EXAMPLES
    train = sub.add_parser(
        "train", help="train one of the book's examples",
        description="Train an example, printing training and validation metrics per epoch.\n"
        "Saves the checkpoint NAME.pt (model and optimizer state_dict) and, with matplotlib,\n"
        "the learning curves NAME.png in --out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n" + "\n".join(f"  {name:12s} {ex.summary}"
                                         for name, ex in EXAMPLES.items()))
    train.add_argument("example", choices=list(EXAMPLES), metavar="EXAMPLE",
                       help=", ".join(EXAMPLES))
    train.add_argument("--epochs", type=int, help="passes over the training data "
                       "(default: the example's own)")
    train.add_argument("--lr", type=float, help="learning rate (default: the example's own)")
    train.add_argument("--batch-size", type=int, help="samples per step (default: the "
                       "example's own)")
    train.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--model", help="thermometer: linear (default) or mlp")
    train.add_argument("--limit", type=int, metavar="N", help="use only the first N "
                       "training samples (a quick run)")
    train.add_argument("--out", metavar="DIR", help="folder for the checkpoint and the curves "
                       "(default ./tinygrad_edu_out/train)")
    train.set_defaults(func=cmd_train)
    for name, what in COMING.items():
        p = sub.add_parser(name, help=f"{what} (coming)")
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=cmd_coming)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) >= 2 and argv[0] == "run" and not argv[1].startswith("-"):
        # the script gets every word after its name verbatim, a "--" too (argparse would eat it)
        return cmd_run(argparse.Namespace(script=argv[1], args=argv[2:]))
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits with status 2 on an unknown command
    if args.command is None:
        parser.print_usage()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
