package databricks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/files"
)

// MarkerName is the file UploadBatch writes last in a batch directory; a
// reader that waits for it never sees half a batch.
const MarkerName = "_SUCCESS"

// LocalFile is one file of a batch to upload.
type LocalFile struct {
	// Path is the file on the local disk.
	Path string
	// Name is its path under the batch directory, with forward slashes
	// (e.g. "orders/orders_0001.csv").
	Name string
}

// UploadBatch writes files under volumePath
// (/Volumes/<catalog>/<schema>/<volume>/<dir>...) through the Files API,
// then writes marker as volumePath/_SUCCESS. If the marker already exists
// the batch is complete and nothing is uploaded, so a retry after a crash
// re-uploads (overwrites) only an unfinished batch.
func (c *Client) UploadBatch(ctx context.Context, volumePath string, batch []LocalFile, marker []byte) error {
	dir, err := checkVolumePath(volumePath)
	if err != nil {
		return err
	}
	markerPath := dir + "/" + MarkerName
	done, err := c.fileExists(ctx, markerPath)
	if err != nil {
		return err
	}
	if done {
		return nil
	}
	for _, f := range batch {
		name := strings.TrimPrefix(path.Clean("/"+f.Name), "/")
		if f.Name == "" || name != f.Name || name == MarkerName {
			return &Error{Kind: KindInvalid, Message: fmt.Sprintf(
				"uploading batch %s: file name %q must be a relative path inside the batch (not %s): fix the generator's output names",
				dir, f.Name, MarkerName)}
		}
		if err := c.uploadFile(ctx, dir+"/"+name, f.Path); err != nil {
			return err
		}
	}
	return c.upload(ctx, markerPath, func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(marker)), nil
	})
}

// checkVolumePath validates and cleans a Unity Catalog volume directory.
func checkVolumePath(p string) (string, error) {
	clean := path.Clean(p)
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	if !strings.HasPrefix(p, "/Volumes/") || len(parts) < 4 || clean != strings.TrimRight(p, "/") {
		return "", &Error{Kind: KindInvalid, Message: fmt.Sprintf(
			"uploading a batch: %q is not a volume directory: use /Volumes/<catalog>/<schema>/<volume>/<dir>", p)}
	}
	return clean, nil
}

func (c *Client) fileExists(ctx context.Context, p string) (bool, error) {
	err := c.retry(ctx, func(ctx context.Context) error {
		_, err := c.svc.Files.GetMetadata(ctx, files.GetMetadataRequest{FilePath: p})
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case KindOf(err) == KindNotFound:
		return false, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	}
	return false, c.describe(err, fmt.Sprintf("checking for %s", p), "the volume path and the identity's READ VOLUME/WRITE VOLUME grants")
}

func (c *Client) uploadFile(ctx context.Context, remote, local string) error {
	return c.upload(ctx, remote, func() (io.ReadCloser, error) {
		f, err := os.Open(local)
		if err != nil {
			return nil, &Error{Kind: KindInvalid, Err: err, described: true, Message: fmt.Sprintf(
				"uploading %s: reading local file: %v: check the batch's local files", remote, err)}
		}
		return f, nil
	})
}

// upload PUTs one file with overwrite=true, retrying transient failures
// (safe: the same bytes land at the same path). open is called per attempt
// so every attempt streams the file from the start.
func (c *Client) upload(ctx context.Context, remote string, open func() (io.ReadCloser, error)) error {
	err := c.retryWithTimeout(ctx, 0, func(ctx context.Context) error {
		body, err := open()
		if err != nil {
			return err
		}
		defer body.Close()
		return c.svc.Files.Upload(ctx, files.UploadRequest{FilePath: remote, Contents: body, Overwrite: true})
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.describe(err, fmt.Sprintf("uploading %s", remote), "the volume path and the identity's WRITE VOLUME grant")
	}
	return nil
}
