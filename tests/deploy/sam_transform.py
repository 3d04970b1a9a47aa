"""Run by the SAM CLI's own Python (``.venv-sam``): the SAM template named by argv[1] as CloudFormation
sees it after the AWS::Serverless transform, printed as JSON. Offline: no managed policy is looked
up, and CodeUri is replaced by a placeholder S3 location (the transform wants one, nothing reads it)."""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


with open(sys.argv[1]) as fh:
    template = yaml_parse(fh.read())
template["Globals"]["Function"]["CodeUri"] = "s3://bucket/key"
print(json.dumps(transform(template, {}, NoManagedPolicies()), default=str))
