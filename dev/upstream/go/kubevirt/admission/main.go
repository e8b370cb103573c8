// Command kubevirt-admission serves KubeVirt's and CDI's own admission webhooks over HTTPS, so
// the project's dev control plane (dev/cluster/control-plane.ts) refuses what a real KubeVirt
// and CDI installation refuses. dev/upstream/build-admission.sh builds it.
//
//	kubevirt-admission webhook --listen 127.0.0.1:PORT --cert FILE --key FILE --kubeconfig FILE
//
// Paths (the ones virt-api and cdi-apiserver serve, so the webhook configurations read alike):
//
//	/virtualmachines-validate                  KubeVirt's VirtualMachine admitter (CREATE, UPDATE)
//	/virtualmachineinstances-validate-create   KubeVirt's VMI create admitter (with the network spec validator, as virt-api)
//	/virtualmachineinstances-validate-update   KubeVirt's VMI update admitter
//	/virtualmachines-mutate                    KubeVirt's VirtualMachine mutator (defaults: firmware UUID/serial, architecture, machine type)
//	/datavolume-validate                       CDI's DataVolume validating webhook (CREATE, UPDATE)
//	/healthz                                   200 "ok" once serving
//
// What is real and what stands in:
//   - KubeVirt's cluster configuration is a fake: testutils.NewFakeClusterConfigUsingKVConfig
//     with an empty DeveloperConfiguration (no feature gates; default architecture GOARCH),
//     i.e. a KubeVirt CR that does not exist on the control plane, and a fake CRD informer
//     holding the DataVolume and DataSource CRDs (both are installed on the control plane).
//   - KubeVirt's client (kubecli.KubevirtClient) is real, against the control plane: the VM
//     admitter and mutator look up instancetypes, preferences and DataSources a VM names,
//     and a VM's VMI when it has volume requests.
//   - KubeVirt's informers (webhooks.Informers) are empty: v1.8.2's VM admitter keeps the
//     DataSource and Namespace informers in fields it never reads.
//   - KubeVirt's service accounts are those of namespace "kubevirt" (the dev simulator
//     impersonates virt-controller's; everyone else is a user).
//   - CDI's DataVolume webhook gets real clients against the control plane: Kubernetes (it
//     looks up a PVC named like the DataVolume on create) and controller-runtime (CDIConfig's
//     feature gates, read only when such a PVC exists). Its CDI and snapshot clientsets are
//     real too, though v1.65.0's DataVolume validation never calls them.
//
// Not served: KubeVirt's VMI mutator (it adds virt-controller's deletion finalizer and resets
// VMI status written by anyone but KubeVirt's service accounts), CDI's DataVolume mutator, and
// every other admitter. See dev/upstream/README.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	snapclient "github.com/kubernetes-csi/external-snapshotter/client/v6/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	crclient "sigs.k8s.io/controller-runtime/pkg/client"

	"kubevirt-machine-functions/dev/upstream/kubevirt/admission/initgc"
	v1 "kubevirt.io/api/core/v1"
	"kubevirt.io/client-go/kubecli"
	cdiv1 "kubevirt.io/containerized-data-importer-api/pkg/apis/core/v1beta1"
	cdiwebhooks "kubevirt.io/containerized-data-importer/pkg/apiserver/webhooks"
	cdiclient "kubevirt.io/containerized-data-importer/pkg/client/clientset/versioned"
	netadmitter "kubevirt.io/kubevirt/pkg/network/admitter"
	"kubevirt.io/kubevirt/pkg/testutils"
	"kubevirt.io/kubevirt/pkg/virt-api/webhooks"
	mutating_webhook "kubevirt.io/kubevirt/pkg/virt-api/webhooks/mutating-webhook"
	validating_webhook "kubevirt.io/kubevirt/pkg/virt-api/webhooks/validating-webhook"
	virtconfig "kubevirt.io/kubevirt/pkg/virt-config"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/components"
)

// The namespace whose KubeVirt service accounts (virt-controller, virt-handler, …) the
// admitters trust with fields users may not set.
const kubevirtNamespace = "kubevirt"

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s webhook --listen ADDR --cert FILE --key FILE --kubeconfig FILE\n", filepath.Base(os.Args[0]))
}

func main() {
	initgc.Restore()
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "webhook":
		if err := runWebhook(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "webhook: %v\n", err)
			os.Exit(1)
		}
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
}

func runWebhook(args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8443", "address to serve HTTPS on")
	certFile := fs.String("cert", "", "serving certificate (PEM)")
	keyFile := fs.String("key", "", "its private key (PEM)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server the lookups go to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *certFile == "" || *keyFile == "" || *kubeconfig == "" {
		usage()
		return errors.New("--cert, --key and --kubeconfig are required")
	}

	mux, err := newMux(*kubeconfig)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: *listen, Handler: logRequests(mux), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServeTLS(*certFile, *keyFile) }()
	fmt.Fprintf(os.Stderr, "kubevirt-admission: serving KubeVirt %s and CDI %s admission on https://%s\n",
		moduleVersion("kubevirt.io/kubevirt"), moduleVersion("kubevirt.io/containerized-data-importer"), *listen)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "kubevirt-admission: stopping")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}

func newMux(kubeconfig string) (*http.ServeMux, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.UserAgent = "kubevirt-admission"
	// virt-api's client rate limit (KubeVirt's defaults for its restClient; client-go's own 5/10
	// made every VM admission after the tenth wait ~0.6 s for its lookups).
	cfg.QPS, cfg.Burst = virtconfig.DefaultVirtAPIQPS, virtconfig.DefaultVirtAPIBurst

	// KubeVirt: a fake cluster configuration, a real client, empty informers.
	clusterConfig, crdInformer, _ := testutils.NewFakeClusterConfigUsingKVConfig(&v1.KubeVirtConfiguration{
		DeveloperConfiguration: &v1.DeveloperConfiguration{},
	})
	testutils.AddDataSourceAPI(crdInformer)
	virtCli, err := kubecli.GetKubevirtClientFromRESTConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("KubeVirt client: %w", err)
	}
	informers := &webhooks.Informers{}
	serviceAccounts := webhooks.KubeVirtServiceAccounts(kubevirtNamespace)

	// CDI: real clients.
	k8sClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("Kubernetes client: %w", err)
	}
	cdiClient, err := cdiclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("CDI client: %w", err)
	}
	snapClient, err := snapclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("snapshot client: %w", err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, cdiv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	crClient, err := crclient.New(cfg, crclient.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("controller-runtime client: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc(components.VMValidatePath, func(w http.ResponseWriter, r *http.Request) {
		validating_webhook.ServeVMs(w, r, clusterConfig, virtCli, informers, serviceAccounts)
	})
	mux.HandleFunc(components.VMICreateValidatePath, func(w http.ResponseWriter, r *http.Request) {
		validating_webhook.ServeVMICreate(w, r, clusterConfig, serviceAccounts,
			func(field *field.Path, spec *v1.VirtualMachineInstanceSpec, cc *virtconfig.ClusterConfig) []metav1.StatusCause {
				return netadmitter.Validate(field, spec, cc)
			})
	})
	mux.HandleFunc(components.VMIUpdateValidatePath, func(w http.ResponseWriter, r *http.Request) {
		validating_webhook.ServeVMIUpdate(w, r, clusterConfig, serviceAccounts)
	})
	mux.HandleFunc(components.VMMutatePath, func(w http.ResponseWriter, r *http.Request) {
		mutating_webhook.ServeVMs(w, r, clusterConfig, virtCli)
	})
	mux.Handle("/datavolume-validate", cdiwebhooks.NewDataVolumeValidatingWebhook(k8sClient, cdiClient, snapClient, crClient))
	return mux, nil
}

// logRequests logs one line per admission request on stderr: time, path, operation, the object's
// kind and namespace/name, the verdict (with the message of a denial) and the duration.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &responseRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		var req struct {
			Request struct {
				Operation string `json:"operation"`
				Kind      struct {
					Kind string `json:"kind"`
				} `json:"kind"`
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
				Object    struct {
					Metadata struct {
						GenerateName string `json:"generateName"`
					} `json:"metadata"`
				} `json:"object"`
			} `json:"request"`
		}
		var resp struct {
			Response struct {
				Allowed bool   `json:"allowed"`
				Patch   []byte `json:"patch"`
				Status  struct {
					Message string `json:"message"`
				} `json:"status"`
			} `json:"response"`
		}
		_ = json.Unmarshal(body, &req)
		_ = json.Unmarshal(rec.body.Bytes(), &resp)
		name := req.Request.Name
		if name == "" {
			name = req.Request.Object.Metadata.GenerateName + "*"
		}
		verdict := "allowed"
		if len(resp.Response.Patch) > 0 {
			verdict = "allowed, patched"
		}
		if !resp.Response.Allowed {
			verdict = "DENIED: " + strings.TrimSpace(resp.Response.Status.Message)
		}
		if rec.status != http.StatusOK {
			verdict = fmt.Sprintf("HTTP %d", rec.status)
		}
		fmt.Fprintf(os.Stderr, "%s %s %s %s %s/%s %s (%s)\n", start.UTC().Format(time.RFC3339Nano), r.URL.Path,
			req.Request.Operation, req.Request.Kind.Kind, req.Request.Namespace, name, verdict, time.Since(start).Round(time.Microsecond))
	})
}

// responseRecorder keeps the status and a copy of the body it passes on.
type responseRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *responseRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
