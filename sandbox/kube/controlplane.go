package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/embed"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/component-base/cli"
	logsapi "k8s.io/component-base/logs/api/v1"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

const (
	// advertiseAddress is what the apiserver publishes as its own address (the endpoints of the
	// `kubernetes` Service). It must not be loopback, and nothing ever connects to it: 192.0.2.0/24
	// is reserved for documentation (RFC 5737), so it cannot clash with a network under test.
	advertiseAddress = "192.0.2.1"
	// serviceClusterIPRange is where ClusterIPs are allocated from.
	serviceClusterIPRange = "10.0.0.0/16"
	// contextName is the kubeconfig context, cluster and user name handed to callers.
	contextName = "sandbox"
)

// controllers are the kube-controller-manager controllers Services, Ingresses and namespaces
// need: namespace deletion, garbage collection, endpoints for Services, and the default
// ServiceAccount the ServiceAccount admission plugin requires before a pod can be created.
var controllers = []string{
	"namespace-controller",
	"garbage-collector-controller",
	"endpointslice-controller",
	"endpoints-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
}

// files are the paths of one control plane's files inside its data folder.
type files struct {
	etcd, certs, serviceAccountKey, tokens, controllerManagerKubeconfig, kubeconfig, ready string
}

func filesIn(dir string) files {
	return files{
		etcd:                        filepath.Join(dir, "etcd"),
		certs:                       filepath.Join(dir, "certs"),
		serviceAccountKey:           filepath.Join(dir, "service-account.key"),
		tokens:                      filepath.Join(dir, "tokens.csv"),
		controllerManagerKubeconfig: filepath.Join(dir, "controller-manager.kubeconfig"),
		kubeconfig:                  filepath.Join(dir, "kubeconfig"),
		ready:                       filepath.Join(dir, "ready"),
	}
}

func runAll(dir string, securePort int, token string, readyTimeout time.Duration) error {
	started := time.Now()
	paths := filesIn(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if token == "" {
		var err error
		if token, err = randomToken(); err != nil {
			return err
		}
	}
	// Both components apply the same logging configuration; the second must not be refused.
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged

	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClientPort, etcdPeerPort := ports[0], ports[1]
	if securePort == 0 {
		securePort = ports[2]
	}
	if err := writeServiceAccountKey(paths.serviceAccountKey); err != nil {
		return err
	}
	tokenLine := fmt.Sprintf("%s,admin,admin,\"system:masters\"\n", token)
	if err := os.WriteFile(paths.tokens, []byte(tokenLine), 0o600); err != nil {
		return err
	}

	// Both components share process-wide feature gates. kube-controller-manager changes a default
	// (WatchListClient) while building its flags, which is refused once any gate is bound to a
	// flag set, so its command is built first.
	controllerManagerCommand := newControllerManagerCommand(paths)
	apiserverCommand := newAPIServerCommand(paths, etcdClientPort, securePort)

	etcd, err := startEtcd(paths.etcd, etcdClientPort, etcdPeerPort)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcd.Close()

	server := fmt.Sprintf("https://127.0.0.1:%d", securePort)
	apiserverDone := make(chan error, 1)
	go func() {
		apiserverDone <- run("kube-apiserver", apiserverCommand)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := waitForReadyz(ctx, server, token, apiserverDone); err != nil {
		return err
	}
	caPEM, err := certificateAuthority(filepath.Join(paths.certs, "apiserver.crt"))
	if err != nil {
		return err
	}
	if err := writeKubeconfig(paths.controllerManagerKubeconfig, server, token, caPEM); err != nil {
		return err
	}

	controllerManagerDone := make(chan error, 1)
	go func() {
		if err := run("kube-controller-manager", controllerManagerCommand); err != nil {
			controllerManagerDone <- err
		} else {
			controllerManagerDone <- errors.New("kube-controller-manager returned")
		}
	}()
	if err := waitForControllers(ctx, paths.controllerManagerKubeconfig, apiserverDone, controllerManagerDone); err != nil {
		return err
	}

	if err := writeKubeconfig(paths.kubeconfig, server, token, caPEM); err != nil {
		return err
	}
	if err := writeFileAtomically(paths.ready, []byte(server+"\n")); err != nil {
		return err
	}
	fmt.Printf("aksform-kube ready server=%s kubeconfig=%s after=%s\n",
		server, paths.kubeconfig, time.Since(started).Round(time.Millisecond))

	select {
	case err := <-apiserverDone:
		// A nil error is a shutdown asked for by SIGTERM or SIGINT.
		return err
	case err := <-controllerManagerDone:
		return fmt.Errorf("kube-controller-manager stopped: %w", err)
	case err := <-etcd.Err():
		return fmt.Errorf("etcd stopped: %w", err)
	}
}

func startEtcd(dir string, clientPort, peerPort int) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "aksform"
	cfg.Dir = dir
	// The data is thrown away with the test; fsync only costs time.
	cfg.UnsafeNoFsync = true
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// At "warn" etcd logs every request it thinks slow, which under a test load is most of them.
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}

	etcd, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-etcd.Server.ReadyNotify():
		return etcd, nil
	case err := <-etcd.Err():
		etcd.Close()
		return nil, err
	case <-time.After(time.Minute):
		etcd.Close()
		return nil, errors.New("not ready after a minute")
	}
}

func newAPIServerCommand(paths files, etcdClientPort, securePort int) *cobra.Command {
	cmd := apiserver.NewAPIServerCommand()
	cmd.SetArgs([]string{
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", etcdClientPort),
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", securePort),
		"--advertise-address=" + advertiseAddress,
		"--cert-dir=" + paths.certs,
		"--service-cluster-ip-range=" + serviceClusterIPRange,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + paths.serviceAccountKey,
		"--service-account-signing-key-file=" + paths.serviceAccountKey,
		"--token-auth-file=" + paths.tokens,
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
	})
	return cmd
}

func newControllerManagerCommand(paths files) *cobra.Command {
	cmd := controllermanager.NewControllerManagerCommand()
	cmd.SetArgs([]string{
		"--kubeconfig=" + paths.controllerManagerKubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		// No serving port: nothing scrapes it, and it would be one more port to find.
		"--secure-port=0",
		"--service-account-private-key-file=" + paths.serviceAccountKey,
		"--use-service-account-credentials=false",
	})
	return cmd
}

// run executes a component's command the way its upstream main does, returning its error.
func run(name string, cmd *cobra.Command) error {
	if err := cli.RunNoErrOutput(cmd); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// waitForReadyz polls /readyz until the apiserver says ok, the apiserver fails, or ctx ends.
func waitForReadyz(ctx context.Context, server, token string, apiserverDone <-chan error) error {
	client := &http.Client{
		Timeout: 5 * time.Second,
		// The serving certificate does not exist until the apiserver has started; what it
		// answers on loopback is checked, not who it is.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}
	last := "no answer yet"
	for {
		request, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/readyz?verbose", nil)
		if err != nil {
			return err
		}
		request.Header.Set("Authorization", "Bearer "+token)
		response, err := client.Do(request)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(response.Body, 64<<10))
			_ = response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", response.Status, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		select {
		case err := <-apiserverDone:
			if err == nil {
				err = errors.New("kube-apiserver stopped before it was ready")
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready: %s", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitForControllers waits for the ServiceAccount controller to create the default namespace's
// ServiceAccount: the controller manager has then synced its informers and runs its controllers.
func waitForControllers(ctx context.Context, kubeconfigPath string, apiserverDone, controllerManagerDone <-chan error) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	for {
		_, err := client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) && ctx.Err() == nil {
			return fmt.Errorf("reading the default ServiceAccount: %w", err)
		}
		select {
		case err := <-apiserverDone:
			if err == nil {
				err = errors.New("kube-apiserver stopped")
			}
			return err
		case err := <-controllerManagerDone:
			return err
		case <-ctx.Done():
			return errors.New("kube-controller-manager did not create the default ServiceAccount in time")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// certificateAuthority returns the CA certificates of the bundle the apiserver generated in its
// cert-dir (the serving certificate followed by the CA that signed it).
func certificateAuthority(bundlePath string) ([]byte, error) {
	bundle, err := os.ReadFile(bundlePath)
	if err != nil {
		return nil, err
	}
	var authorities []byte
	rest := bundle
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		certificate, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", bundlePath, err)
		}
		if certificate.IsCA {
			authorities = append(authorities, pem.EncodeToMemory(block)...)
		}
	}
	if len(authorities) == 0 {
		return nil, fmt.Errorf("%s holds no CA certificate", bundlePath)
	}
	return authorities, nil
}

func writeKubeconfig(path, server, token string, caPEM []byte) error {
	config := clientcmdapi.NewConfig()
	config.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	config.AuthInfos[contextName] = &clientcmdapi.AuthInfo{Token: token}
	config.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	config.CurrentContext = contextName
	content, err := clientcmd.Write(*config)
	if err != nil {
		return err
	}
	return writeFileAtomically(path, content)
}

// writeFileAtomically writes beside path and renames, so a reader polling for path never sees
// half a file.
func writeFileAtomically(path string, content []byte) error {
	temporary := path + ".tmp"
	if err := os.WriteFile(temporary, content, 0o600); err != nil {
		return err
	}
	return os.Rename(temporary, path)
}

// writeServiceAccountKey writes one RSA private key: the apiserver signs ServiceAccount tokens
// with it and verifies them with its public half, read from the same file.
func writeServiceAccountKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

func randomToken() (string, error) {
	bytes := make([]byte, 24)
	if _, err := rand.Read(bytes); err != nil {
		return "", err
	}
	return hex.EncodeToString(bytes), nil
}

// freePorts asks the kernel for distinct free loopback ports. They are released before use, so
// another process could take one in between; the caller retries when a bind fails.
func freePorts(count int) ([]int, error) {
	listeners := make([]net.Listener, 0, count)
	defer func() {
		for _, listener := range listeners {
			_ = listener.Close()
		}
	}()
	ports := make([]int, 0, count)
	for range count {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, listener)
		ports = append(ports, listener.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
