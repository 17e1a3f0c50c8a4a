"""保二争一 page under AppTest: it renders, moving a scenario slider changes the probabilities,
and the numbers shown equal the analytics functions' (same draws, same seed)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics import scoring, simulation
from analytics.demo import DEMO_PERIOD, DEMO_YEAR
from ui.text import probability


@pytest.fixture
def ranking_app(app_db):
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "leader"
    at.run()
    at.switch_page("pages/ranking.py").run()
    assert not at.exception, at.exception
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_page_numbers_equal_the_function_and_a_slider_moves_them(ranking_app, demo_db):
    at = ranking_app
    assert at.title[0].value == "保二争一"
    doc = simulation.simulate(DEMO_YEAR, DEMO_PERIOD, path=demo_db)
    assert metric(at, "P(前二)") == probability(doc['p_top2'])
    assert metric(at, "P(第一)") == probability(doc['p_first'])
    assert metric(at, "期望名次") == f"{doc['expected_rank']:.2f}"
    before = (metric(at, "P(第一)"), metric(at, "期望得分"))
    at.slider(key="rk_I06").set_value(at.slider(key="rk_I06").min).run()
    assert not at.exception
    after = (metric(at, "P(第一)"), metric(at, "期望得分"))
    assert after != before
    # the moved number is the function's under the same scenario
    table = scoring.load_table(DEMO_YEAR, DEMO_PERIOD, "city", "projected", path=demo_db)
    sim = simulation.Simulation(simulation.sim_input(table, demo_db))
    sc = simulation.Scenario({"I06": at.slider(key="rk_I06").value})
    rep = simulation.report(sim, sc, with_leverage=False)
    assert metric(at, "期望得分") == f"{rep['expected_score']:.2f}"
    assert metric(at, "P(第一)") == probability(rep['p_first'])


@pytest.mark.parametrize("p, shown", [(1.0, "100%"), (0.0, "0%"), (0.9998, ">99.9%"), (0.99951, ">99.9%"),
                                      (0.9994, "99.9%"), (0.5, "50.0%"), (0.012, "1.2%"), (0.0004, "<0.1%"),
                                      (0.0005, "0.1%")])
def test_probability_never_rounds_to_a_certainty(p, shown):
    assert probability(p) == shown
