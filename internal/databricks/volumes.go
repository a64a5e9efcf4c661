package databricks

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/files"
)

// FilesReader is the part of the SDK's Files service that ReadFile and
// ListDirectory use. The SDK's *files.FilesAPI (what New wires) has it; a
// Services.Files without it makes both return a KindInvalid error.
type FilesReader interface {
	Download(ctx context.Context, req files.DownloadRequest) (*files.DownloadResponse, error)
	ListDirectoryContentsAll(ctx context.Context, req files.ListDirectoryContentsRequest) ([]files.DirectoryEntry, error)
}

// DirEntry is one entry of a volume directory.
type DirEntry struct {
	// Name is the last path component; Path the absolute path.
	Name  string
	Path  string
	IsDir bool
	Size  int64
}

// maxReadBytes caps ReadFile: it reads markers and manifests, not data.
const maxReadBytes = 64 << 20

func (c *Client) filesReader(op string) (FilesReader, error) {
	r, ok := c.svc.Files.(FilesReader)
	if !ok {
		return nil, &Error{Kind: KindInvalid, described: true, Message: fmt.Sprintf(
			"%s in workspace %s: this client's Files service cannot download or list files", op, c.host)}
	}
	return r, nil
}

// ReadFile returns the contents of a file in a volume (at most 64 MiB), or
// ok=false when it does not exist. Transient failures are retried.
func (c *Client) ReadFile(ctx context.Context, p string) (data []byte, ok bool, err error) {
	op := fmt.Sprintf("reading %s", p)
	r, err := c.filesReader(op)
	if err != nil {
		return nil, false, err
	}
	err = c.retry(ctx, func(ctx context.Context) error {
		resp, err := r.Download(ctx, files.DownloadRequest{FilePath: p})
		if err != nil {
			return err
		}
		if resp.Contents == nil {
			data = nil
			return nil
		}
		defer resp.Contents.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Contents, maxReadBytes+1))
		if err != nil {
			return err
		}
		if len(b) > maxReadBytes {
			return &Error{Kind: KindInvalid, described: true, Message: fmt.Sprintf(
				"reading %s in workspace %s: the file is larger than %d bytes", p, c.host, maxReadBytes)}
		}
		data = b
		return nil
	})
	switch {
	case err == nil:
		return data, true, nil
	case KindOf(err) == KindNotFound:
		return nil, false, nil
	case ctx.Err() != nil:
		return nil, false, ctx.Err()
	}
	return nil, false, c.describe(err, op, "the volume path and the identity's READ VOLUME grant")
}

// ListDirectory lists a volume directory, sorted as the API returns it
// (by name). A directory that does not exist lists as empty.
func (c *Client) ListDirectory(ctx context.Context, dir string) ([]DirEntry, error) {
	dir = strings.TrimRight(path.Clean(dir), "/")
	op := fmt.Sprintf("listing %s", dir)
	r, err := c.filesReader(op)
	if err != nil {
		return nil, err
	}
	var entries []files.DirectoryEntry
	err = c.retry(ctx, func(ctx context.Context) error {
		all, err := r.ListDirectoryContentsAll(ctx, files.ListDirectoryContentsRequest{DirectoryPath: dir})
		entries = all
		return err
	})
	switch {
	case err == nil:
	case KindOf(err) == KindNotFound:
		return nil, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		return nil, c.describe(err, op, "the volume path and the identity's READ VOLUME grant")
	}
	out := make([]DirEntry, 0, len(entries))
	for _, e := range entries {
		name := e.Name
		if name == "" {
			name = path.Base(e.Path)
		}
		out = append(out, DirEntry{Name: name, Path: e.Path, IsDir: e.IsDirectory, Size: e.FileSize})
	}
	return out, nil
}

// ResolvePipeline returns the id of req's pipeline: PipelineID as is, or the
// pipeline named PipelineName, looked up once per Client (as RunUpdate does).
// Callers use it to record the pipeline id before starting an update, so a
// later attempt can look for an update whose start outcome is unknown.
func (c *Client) ResolvePipeline(ctx context.Context, req UpdateRequest) (string, error) {
	if req.PipelineID != "" && req.PipelineName != "" {
		return "", &Error{Kind: KindInvalid, Message: fmt.Sprintf(
			"running an update: both pipeline id %q and name %q are set: keep one in %s", req.PipelineID, req.PipelineName, req.hint())}
	}
	return c.pipelineID(ctx, req)
}
