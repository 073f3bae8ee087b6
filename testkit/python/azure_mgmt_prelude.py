# What every script run by aksform_testkit::azure_mgmt starts with (the emulator's tests and
# aksform's, which make resources "outside aksform" with it): Microsoft's management
# SDKs pointed at the emulator (base_url), with a credential of our own that hands out the
# emulator's bearer token, and a policy that lets the SDK's bearer-token policy send it over the
# emulator's plain HTTP on loopback and records what the SDK sent.
import json
import os
import time
import urllib.parse

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.dns import DnsManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

BASE_URL = os.environ["EMULATOR_URL"]
SUB = os.environ["EMULATOR_SUBSCRIPTION"]


class EmulatorCredential:
    """A TokenCredential whose token is the one the emulator accepts (Entra's, on Azure)."""

    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        assert scopes == ("https://management.azure.com/.default",), scopes
        return AccessToken(self.token, int(time.time()) + 3600)


SENT = []


class LoopbackAndRecord(SansIOHTTPPolicy):
    """Allows bearer tokens over http://127.0.0.1 and records each request's method, path,
    api-version and JSON body."""

    def on_request(self, request):
        request.context.options["enforce_https"] = False
        http = request.http_request
        url = urllib.parse.urlparse(http.url)
        version = urllib.parse.parse_qs(url.query).get("api-version", [None])[0]
        body = http.body
        if isinstance(body, (bytes, bytearray)):
            body = body.decode()
        SENT.append({"method": http.method, "path": url.path, "apiVersion": version,
                     "body": json.loads(body) if body else None})


credential = EmulatorCredential(os.environ["EMULATOR_TOKEN"])
options = dict(base_url=BASE_URL, per_call_policies=[LoopbackAndRecord()], polling_interval=0.05)
resources = ResourceManagementClient(credential, SUB, **options)
network = NetworkManagementClient(credential, SUB, **options)
containers = ContainerServiceClient(credential, SUB, **options)
dns = DnsManagementClient(credential, SUB, **options)


def error_of(call):
    """Runs `call`; the ARM error it raised, as the SDK parsed it."""
    try:
        call()
    except HttpResponseError as error:
        return {"status": error.status_code, "code": error.error.code, "message": error.error.message}
    raise AssertionError("the call succeeded")


def create_vnet(group, name, prefix, subnets=()):
    """A VNet in eastus with `subnets` (name, prefix) inline, through the long-running PUT."""
    return network.virtual_networks.begin_create_or_update(group, name, {
        "location": "eastus",
        "properties": {"addressSpace": {"addressPrefixes": [prefix]},
                       "subnets": [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets]},
    }).result()


def versions_sent():
    return sorted({request["apiVersion"] for request in SENT if request["apiVersion"]})


def out(value):
    print(json.dumps(value))
