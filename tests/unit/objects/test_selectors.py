import pytest

from clusters.objects.selectors import (
    SelectorError,
    field_value,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
    selector_from_match_labels,
)

LABELS = {"app": "web", "tier": "front", "env": "prod"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("env in (prod, qa)", True),
        ("env in (dev)", False),
        ("env notin (dev,qa)", True),
        ("release", False),
        ("!release", True),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("app=web, env in (prod,qa), !release", True),
        ("", True),
    ],
)
def test_it_matches_label_selectors_like_the_api_server(selector, expected):
    assert labels_match(parse_label_selector(selector), LABELS) is expected


def test_it_reports_the_part_of_a_label_selector_it_cannot_parse():
    with pytest.raises(SelectorError, match="unable to parse requirement: 'app=web=x'"):
        parse_label_selector("tier=front,app=web=x")


def test_it_turns_a_label_selector_object_into_requirements():
    requirements = selector_from_match_labels(
        {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}
    )
    assert labels_match(requirements, LABELS)
    assert not labels_match(requirements, {"app": "web", "env": "dev"})


EVENT = {"involvedObject": {"name": "web", "namespace": "default", "uid": "u-1"}, "type": "Normal"}


def test_it_matches_the_field_selector_kubectl_describe_sends():
    selector = "involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u-1"
    assert fields_match(parse_field_selector(selector), EVENT)
    assert not fields_match(parse_field_selector("involvedObject.uid=other"), EVENT)
    assert fields_match(parse_field_selector("type!=Warning"), EVENT)


def test_a_missing_field_compares_as_empty():
    assert field_value({"spec": {}}, "spec.nodeName") == ""
    assert fields_match(parse_field_selector("spec.nodeName="), {"spec": {}})


def test_it_rejects_a_field_selector_without_an_operator():
    with pytest.raises(SelectorError, match=r"invalid selector: 'metadata\.name'"):
        parse_field_selector("metadata.name")
