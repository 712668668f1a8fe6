package media_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/media"
)

// TestBlobs runs the same round trip on a directory (the default) and in memory; S3 is the
// same gocloud.dev interface but needs a server, which tests here do not have.
func TestBlobs(t *testing.T) {
	dataDir := t.TempDir()
	fileURL, err := media.BlobURL("", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fileURL, "file://") || !strings.HasSuffix(fileURL, "/blobs") {
		t.Fatalf("default blob URL %q", fileURL)
	}
	if u, _ := media.BlobURL("s3://photos?region=cn-east-1", dataDir); u != "s3://photos?region=cn-east-1" {
		t.Fatalf("configured URL replaced: %q", u)
	}
	for name, u := range map[string]string{"file": fileURL, "mem": "mem://"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b, err := media.OpenBlobs(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			key := media.NewKey("photos")
			if err := b.Put(ctx, key, []byte("jpeg bytes"), media.TypeJPEG); err != nil {
				t.Fatal(err)
			}
			r, size, err := b.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if string(got) != "jpeg bytes" || size != 10 {
				t.Fatalf("read %q (%d)", got, size)
			}
			if name == "file" {
				var files []string
				_ = filepath.WalkDir(filepath.Join(dataDir, "blobs"), func(p string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						files = append(files, p)
					}
					return nil
				})
				if len(files) != 1 || strings.HasSuffix(files[0], ".attrs") {
					t.Fatalf("files in the blob directory: %v; want the photo alone, no sidecar", files)
				}
			}
			if err := b.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if err := b.Delete(ctx, key); err != nil {
				t.Fatalf("deleting twice: %v", err)
			}
			if _, _, err := b.Open(ctx, key); !errs.Is(err, errs.NotFound) {
				t.Fatalf("deleted blob: %v", err)
			}
		})
	}
}

func TestNewKeyIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := media.NewKey("photos")
		if seen[k] || !strings.HasPrefix(k, "photos/") || len(k) != len("photos/ab/")+32 {
			t.Fatalf("key %q", k)
		}
		seen[k] = true
	}
}

// TestS3URLOpens: the S3 driver is compiled in and takes gridcase's documented options.
// Opening makes no request; nothing is written, for want of a server.
func TestS3URLOpens(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	b, err := media.OpenBlobs(context.Background(), "s3://photos?endpoint=http://127.0.0.1:9&region=cn-east-1&use_path_style=true")
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	if _, err := media.OpenBlobs(context.Background(), "nosuch://bucket"); err == nil {
		t.Fatal("an unknown scheme opened")
	}
}
