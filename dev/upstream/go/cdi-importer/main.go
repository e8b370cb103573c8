// Command cdi-importer is CDI's importer for one http DataVolume source, as one process: what
// CDI's importer pod runs (cmd/cdi-importer/importer.go, handleImport for source "http"), with
// local paths in place of the pod's volumes. The data path is CDI's own pkg/importer:
// importer.NewHTTPDataSource, then importer.NewDataProcessor(...).ProcessData(), which sniff
// the stream, decompress gz/xz/zstd, stream to scratch space and run qemu-img (from PATH).
//
//	cdi-importer -url URL -data-dir DIR -scratch-dir DIR -termination-log FILE
//	             [-content-type kubevirt|archive] [-image-size QUANTITY] [-checksum ALGO:HEX]
//	             [-cert-dir DIR] [-filesystem-overhead F] [-preallocation] [-progress-interval D]
//
// The pod's environment that CDI's packages read themselves is passed the same way:
// OWNER_UID (the DataVolume's uid, the progress metric's label), IMPORTER_ACCESS_KEY_ID and
// IMPORTER_SECRET_KEY (basic auth from the DataVolume's secretRef), IMPORTER_EXTRA_HEADER_<n>
// (one "Name: value" line each: extraHeaders and secretExtraHeaders).
//
// Like the pod: exit status 0 with a JSON termination message on success (and on a checksum
// mismatch, which CDI's controller treats as fatal), 1 with a plain-text termination message
// on failure. The pod's /dev/termination-log is -termination-log here.
//
// Progress: CDI's controller scrapes the importer's Prometheus endpoint (:8443/metrics) for
// kubevirt_cdi_import_progress_total{ownerUID="<dv uid>"}. Instead of that endpoint (several
// importers on one host would clash on the port), the same metric family is read from the
// process's registry every -progress-interval and written to stdout in the Prometheus text
// format whenever it changes; the caller applies the controller's regular expression to it.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	cdiv1 "kubevirt.io/containerized-data-importer-api/pkg/apis/core/v1beta1"
	"kubevirt.io/containerized-data-importer/pkg/common"
	"kubevirt.io/containerized-data-importer/pkg/importer"
	metrics "kubevirt.io/containerized-data-importer/pkg/monitoring/metrics/cdi-importer"
	"kubevirt.io/containerized-data-importer/pkg/util"
)

// cmd/cdi-importer's completeMessage.
const completeMessage = "Import Complete"

var (
	endpoint         = flag.String("url", "", "http(s) URL of the image (the pod's IMPORTER_ENDPOINT)")
	contentType      = flag.String("content-type", string(cdiv1.DataVolumeKubeVirt), "kubevirt or archive (IMPORTER_CONTENT_TYPE)")
	imageSize        = flag.String("image-size", "", "requested size, a Kubernetes quantity (IMPORTER_IMAGE_SIZE: the PVC's size)")
	dataDir          = flag.String("data-dir", "", "the target volume's directory, the pod's /data; the disk is <data-dir>/disk.img")
	scratchDir       = flag.String("scratch-dir", "", "scratch space, the pod's /scratch")
	checksum         = flag.String("checksum", "", `expected checksum "algorithm:hex" (IMPORTER_CHECKSUM; md5, sha1, sha256, sha512)`)
	certDir          = flag.String("cert-dir", "", "directory of CA bundles from certConfigMap (IMPORTER_CERT_DIR)")
	terminationLog   = flag.String("termination-log", common.PodTerminationMessageFile, "where the termination message goes (the pod's /dev/termination-log)")
	fsOverhead       = flag.Float64("filesystem-overhead", 0, "fraction of the volume kept for the filesystem (FILESYSTEM_OVERHEAD)")
	preallocation    = flag.Bool("preallocation", false, "preallocate the target (IMPORTER_PREALLOCATION)")
	progressInterval = flag.Duration("progress-interval", 250*time.Millisecond, "how often the progress metric is read")
	cacheMode        = flag.String("cache-mode", "", "qemu-img cache mode choice (CACHE_MODE; TRY_NONE or empty)")
)

func main() {
	klog.InitFlags(nil)
	flag.Parse()
	if *endpoint == "" || *dataDir == "" || *scratchDir == "" {
		fmt.Fprintln(os.Stderr, "cdi-importer: -url, -data-dir and -scratch-dir are required")
		flag.Usage()
		os.Exit(2)
	}
	defer klog.Flush()
	stop := startProgressReporter(*progressInterval)

	code, imported := handleImport()
	stop()
	if imported {
		// The pod's deferred fsyncDataFile: commit the written data before exiting.
		fsyncDataFile()
	}
	klog.Flush()
	os.Exit(code)
}

// The pod's /data/disk.img (content type kubevirt) or /data (archive): getImporterDestPath
// for a Filesystem volume.
func destPath() string {
	if *contentType == string(cdiv1.DataVolumeArchive) {
		return *dataDir
	}
	return filepath.Join(*dataDir, common.DiskImageName)
}

// handleImport is cmd/cdi-importer's newDataSource (case http) and handleImport: the exit
// code, and whether the pod's deferred fsync of the target runs (only on a normal return:
// CDI's importer leaves by os.Exit otherwise).
func handleImport() (int, bool) {
	klog.V(1).Infoln("begin import process")
	ds, err := importer.NewHTTPDataSource(*endpoint, os.Getenv(common.ImporterAccessKeyID), os.Getenv(common.ImporterSecretKey),
		*certDir, cdiv1.DataVolumeContentType(*contentType), *checksum)
	if err != nil {
		// errorCannotConnectDataSource
		klog.Errorf("%+v", err)
		writePlain(fmt.Sprintf("Unable to connect to http data source: %v", err))
		return 1, false
	}
	defer ds.Close()

	processor := importer.NewDataProcessor(ds, destPath(), *dataDir, *scratchDir, *imageSize, *fsOverhead, *preallocation, *cacheMode)
	err = processor.ProcessData()

	scratchSpaceRequired := errors.Is(err, importer.ErrRequiresScratchSpace)
	if err != nil && !scratchSpaceRequired {
		klog.Errorf("%+v", err)
		if errors.Is(err, importer.ErrChecksumMismatch) {
			// Exit 0 with a JSON message: CDI's controller marks the import failed for good.
			removeDownloadedFiles()
			_ = writeJSON(&common.TerminationMessage{Message: ptr.To(fmt.Sprintf("Unable to process data: %v", err.Error()))})
			return 0, false
		}
		writePlain(fmt.Sprintf("Unable to process data: %v", err.Error()))
		return 1, false
	}

	termMsg := ds.GetTerminationMessage()
	if termMsg == nil {
		termMsg = &common.TerminationMessage{}
	}
	termMsg.ScratchSpaceRequired = &scratchSpaceRequired
	termMsg.PreallocationApplied = ptr.To(processor.PreallocationApplied())
	termMsg.Message = ptr.To(completeMessage)
	if err := writeJSON(termMsg); err != nil {
		return 1, false
	}
	return 0, !scratchSpaceRequired
}

// util.WriteTerminationMessage, to -termination-log: the first line only.
func writePlain(msg string) {
	if err := util.WriteTerminationMessageToFile(*terminationLog, msg); err != nil {
		klog.Errorf("%+v", err)
	}
}

// cmd/cdi-importer's writeTerminationMessage.
func writeJSON(termMsg *common.TerminationMessage) error {
	msg, err := termMsg.String()
	if err == nil {
		err = util.WriteTerminationMessageToFile(*terminationLog, msg)
	}
	if err != nil {
		klog.Errorf("%+v", err)
		return err
	}
	klog.V(1).Infoln(msg)
	return nil
}

// cmd/cdi-importer's removeDownloadedFileOnChecksumFailure for a Filesystem volume.
func removeDownloadedFiles() {
	_ = os.Remove(filepath.Join(*scratchDir, "tmpimage"))
	if *contentType == string(cdiv1.DataVolumeArchive) {
		entries, _ := os.ReadDir(*dataDir)
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(*dataDir, e.Name()))
		}
		return
	}
	_ = os.Remove(destPath())
}

// cmd/cdi-importer's fsyncDataFile.
func fsyncDataFile() {
	f, err := os.Open(destPath())
	if err != nil {
		klog.Errorf("could not get file descriptor for fsync call: %+v", err)
		os.Exit(1)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		klog.Errorf("could not fsync following qemu-img writing: %+v", err)
		os.Exit(1)
	}
}

// startProgressReporter writes the import progress metric family (Prometheus text format) to
// stdout whenever it changes; the returned function writes a last reading and stops.
func startProgressReporter(every time.Duration) func() {
	var last []byte
	report := func() {
		text := progressText()
		if len(text) > 0 && !bytes.Equal(text, last) {
			_, _ = os.Stdout.Write(text)
			last = text
		}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				report()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		report()
	}
}

// progressText is what the importer's /metrics shows for the progress metric.
func progressText() []byte {
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	for _, mf := range families {
		if mf.GetName() == metrics.ImportProgressMetricName {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				return nil
			}
		}
	}
	return b.Bytes()
}
