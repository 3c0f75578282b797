"""Bad input gets an error naming the field, the value and what is allowed."""

from __future__ import annotations

import pytest

from sim import ConfigError, EcosystemModel, load_scenario
from sim.config import parse_value


def test_misspelled_override_names_the_key_and_suggests():
    with pytest.raises(ConfigError) as err:
        load_scenario("city", {"population.custmers": 100})
    assert err.value.field == "population.custmers"
    assert "population.customers" in str(err.value)


def test_mistyped_override_names_key_value_and_type():
    with pytest.raises(ConfigError) as err:
        load_scenario("city", {"population.customers": "many"})
    assert str(err.value) == ("population.customers: must be an integer "
                              "(like the default 100000), got 'many'")


def test_float_is_not_silently_truncated_to_int():
    with pytest.raises(ConfigError, match="population.customers"):
        load_scenario("city", {"population.customers": 2000.5})


def test_out_of_range_value_names_range():
    with pytest.raises(ConfigError) as err:
        load_scenario("city", {"adoption.external_rate": 1.5})
    assert str(err.value) == "adoption.external_rate: must be in [0, 1], got 1.5"


def test_segment_shares_must_sum_to_one():
    with pytest.raises(ConfigError, match="shares summing to 1"):
        load_scenario("city", {"segments.parents.share": 0.5})


def test_unknown_scenario_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match="city"):
        load_scenario("atlantis")


def test_int_accepted_where_float_expected():
    sc = load_scenario("city", {"bank.float_days": 7})
    assert sc.bank.float_days == 7.0 and isinstance(sc.bank.float_days, float)


def test_model_rejects_bad_days_and_seed():
    model = EcosystemModel("city", seed=0, overrides={"population.customers": 500})
    with pytest.raises(ConfigError, match="days"):
        model.run(-1)
    with pytest.raises(ConfigError, match="seed"):
        EcosystemModel("city", seed=-3, overrides={"population.customers": 500})


def test_parse_value_uses_toml_scalars():
    assert parse_value("3") == 3
    assert parse_value("0.5") == 0.5
    assert parse_value("true") is True
    assert parse_value("complete") == "complete"


def test_config_error_survives_being_rebuilt_from_its_args():
    """simpy re-raises a failed process as type(e)(*e.args); pickling does the same."""
    import pickle

    err = ConfigError("population.customers", -5, "an integer >= 1")
    for rebuilt in (type(err)(*err.args), pickle.loads(pickle.dumps(err))):
        assert str(rebuilt) == str(err) and rebuilt.field == err.field


def test_payment_rates_beyond_the_draw_are_refused_on_day_zero():
    model = EcosystemModel("city", seed=0, overrides={"population.customers": 500,
                                                      "chains.property.rate_per_day": 900})
    with pytest.raises(ConfigError, match=r"chains\.\*\.rate_per_day: .* below 700 a day"):
        model.run(1)
