package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob" // mem:// for tests
	_ "gocloud.dev/blob/s3blob"  // s3://bucket?endpoint=…&region=… for S3-compatible storage
	"gocloud.dev/gcerrors"

	"github.com/gridcase/gridcase/internal/errs"
)

// Blobs keeps photo bytes in a gocloud.dev bucket: a directory (file://), S3-compatible
// storage (s3://, e.g. MinIO, Aliyun OSS, Tencent COS with ?endpoint=…&region=…) or memory
// (mem://, for tests).
type Blobs struct {
	bucket *blob.Bucket
}

// BlobURL returns the configured bucket URL, or a directory "blobs" in dataDir when none is.
func BlobURL(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	dir, err := filepath.Abs(filepath.Join(dataDir, "blobs"))
	if err != nil {
		return "", fmt.Errorf("blob directory: %w", err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String(), nil
}

// OpenBlobs opens the bucket at rawURL. A file:// directory is created if missing, and
// written without metadata sidecar files (the database keeps the content type); its query
// options are not read. Other schemes take gocloud.dev's URL options.
func OpenBlobs(ctx context.Context, rawURL string) (*Blobs, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob URL: %w", err)
	}
	var b *blob.Bucket
	if u.Scheme == "file" {
		dir := filepath.FromSlash(u.Path)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create blob directory: %w", err)
		}
		b, err = fileblob.OpenBucket(dir, &fileblob.Options{Metadata: fileblob.MetadataDontWrite, NoTempDir: true, DirFileMode: 0o750})
	} else {
		b, err = blob.OpenBucket(ctx, rawURL)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob bucket %s://%s: %w", u.Scheme, u.Host, err)
	}
	return &Blobs{bucket: b}, nil
}

// NewKey returns a fresh key that no id, name or content lets anyone guess.
func NewKey(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return prefix + "/" + h[:2] + "/" + h
}

// Put writes data under key.
func (s *Blobs) Put(ctx context.Context, key string, data []byte, contentType string) error {
	err := s.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "photo storage is unavailable")
	}
	return nil
}

// Open returns a reader of key's bytes and their size; the caller closes it.
func (s *Blobs) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, 0, errs.Wrap(errs.NotFound, err, "the photo's bytes are missing")
		}
		return nil, 0, errs.Wrap(errs.Unavailable, err, "photo storage is unavailable")
	}
	return r, r.Size(), nil
}

// Delete removes key; a missing key is not an error.
func (s *Blobs) Delete(ctx context.Context, key string) error {
	if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// Close releases the bucket.
func (s *Blobs) Close() error { return s.bucket.Close() }
