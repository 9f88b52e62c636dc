"""plots.line_chart: the SVG the lessons draw their curves with."""
import re

from tinygrad_edu.plots import line_chart


def points(svg: str) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, p.split(","))) for p in m.split()]
            for m in re.findall(r'<polyline points="([^"]*)"', svg)]


def test_curves_map_their_range_onto_the_frame(tmp_path):
    path = line_chart(tmp_path / "c.svg", [("up", "red", [0, 1, 2], [0.0, 5.0, 10.0]),
                                           ("flat", "blue", [0, 2], [5.0, 5.0])],
                      x_label="epoch", width=300, height=200, pad=50)
    assert path == tmp_path / "c.svg"
    svg = path.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    up, flat = points(svg)
    # x 0..2 spans the frame's 200 pixels from x=50; y 0..10 its 100 pixels, upwards from y=150
    assert up == [(50.0, 150.0), (150.0, 100.0), (250.0, 50.0)]
    assert flat == [(50.0, 100.0), (250.0, 100.0)]
    assert ">up</text>" in svg and ">flat</text>" in svg and ">epoch</text>" in svg


def test_log_axis_labels_each_decade_and_dots_may_be_hollow(tmp_path):
    svg = line_chart(tmp_path / "l.svg", [("loss", "red", [1, 2, 3], [50.0, 2.0, 0.5])],
                     dots=[(1, 50.0), (3, 0.5, "white")], log_y=True).read_text()
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', svg)
    assert labels == ["0.1", "1", "10", "100"]
    assert re.findall(r'<circle [^>]*fill="(\w+)"', svg) == ["black", "white"]


def test_values_outside_the_given_range_run_along_the_edge(tmp_path):
    svg = line_chart(tmp_path / "e.svg", [("c", "red", [0, 1], [-50.0, 50.0])],
                     y_range=(-10.0, 10.0), height=200, pad=50).read_text()
    assert [y for _, y in points(svg)[0]] == [150.0, 50.0]


def test_a_single_point_draws_without_dividing_by_zero(tmp_path):
    svg = line_chart(tmp_path / "p.svg", [("one", "red", [3], [7.0])]).read_text()
    assert len(points(svg)[0]) == 1
