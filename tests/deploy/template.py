"""Reading ``template.yaml`` with its CloudFormation short tags (``!Ref X`` -> ``{"Ref": "X"}``), and
evaluating it for one set of parameter values (:class:`Stack`)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else "Fn::GetAtt" if suffix == "GetAtt" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template() -> dict:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader plus CFN tags


# -- a small CloudFormation evaluator: the template as one set of parameter values makes it ----------

ACCOUNT, REGION, STACK = "111122223333", "eu-west-3", "token-vending"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()


class Stack:
    """``template.yaml`` deployed with ``parameters`` (the rest at their defaults), as far as the
    intrinsic functions the template uses can tell: Ref, Fn::If/Equals/Not/And/Or, Fn::Sub, Fn::Join,
    Fn::Select and Fn::Split. ``Fn::GetAtt`` of a resource becomes ``<Resource>.<Attribute>``."""

    def __init__(self, template: dict, **parameters: str):
        declared = template["Parameters"]
        unknown = set(parameters) - set(declared)
        assert not unknown, f"not parameters of the template: {sorted(unknown)}"
        self.template = template
        self.parameters = {}
        for name, spec in declared.items():
            value = parameters.get(name, spec.get("Default"))
            assert value is not None, f"{name} has no default: give it"
            value = str(value)
            self.parameters[name] = (
                [v.strip() for v in value.split(",")] if spec["Type"] == "CommaDelimitedList" else value
            )
        self.conditions = {name: self.value(c) for name, c in template.get("Conditions", {}).items()}

    def value(self, node):
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Ref", "Fn::", "Condition")):
            return {k: v for k, v in ((k, self.value(x)) for k, x in node.items()) if v is not NO_VALUE}
        ((fn, arg),) = node.items()
        if fn == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            if arg in PSEUDO:
                return PSEUDO[arg]
            if arg in self.parameters:
                return self.parameters[arg]
            return f"{arg}.Ref"
        if fn == "Condition":
            return self.conditions[arg]
        if fn == "Fn::GetAtt":
            return ".".join(arg)
        if fn == "Fn::If":
            name, yes, no = arg
            return self.value(yes if self.conditions[name] else no)
        if fn == "Fn::Equals":
            a, b = (self.value(x) for x in arg)
            return a == b
        if fn == "Fn::Not":
            return not self.value(arg[0])
        if fn == "Fn::And":
            return all(self.value(x) for x in arg)
        if fn == "Fn::Or":
            return any(self.value(x) for x in arg)
        if fn == "Fn::Join":
            sep, items = arg
            return sep.join(self.value(items))
        if fn == "Fn::Split":
            sep, text = arg
            return self.value(text).split(sep)
        if fn == "Fn::Select":
            index, items = arg
            return self.value(items)[int(index)]
        if fn == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else (arg[0], {k: self.value(v) for k, v in arg[1].items()})

            def sub(match):
                name = match.group(1)
                if name in names:
                    return str(names[name])
                if "." in name:
                    return name
                return str(self.value({"Ref": name}))

            return re.sub(r"\$\{([^}!]+)\}", sub, text)
        raise NotImplementedError(fn)

    def broken_rules(self) -> list[str]:
        """The AssertDescription of every rule assertion these parameters break."""
        broken = []
        for rule in self.template.get("Rules", {}).values():
            for assertion in rule["Assertions"]:
                if not self.value(assertion["Assert"]):
                    broken.append(assertion["AssertDescription"])
        return broken

    def resource(self, name: str) -> dict | None:
        """The resource's properties as deployed, or None when its condition leaves it out."""
        resource = self.template["Resources"][name]
        if "Condition" in resource and not self.conditions[resource["Condition"]]:
            return None
        return self.value(resource.get("Properties", {}))

    def function(self, name: str) -> dict:
        """A function's properties with the Globals merged in (what SAM does)."""
        merged = dict(self.value(self.template["Globals"]["Function"]))
        for key, value in self.resource(name).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = _deep_merge(merged[key], value)
            else:
                merged[key] = value
        return merged

    def role_statements(self, role: str) -> list[dict]:
        return [s for p in self.resource(role).get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
