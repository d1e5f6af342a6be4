package containers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// An ImageError says that an image is neither present nor pullable,
// and how to get it.
type ImageError struct {
	// Image is the image that was asked for.
	Image string
	// Cause is why it could not be used ("not built", a pull error).
	Cause string
	// Hint tells the user how to get it.
	Hint string
}

func (e *ImageError) Error() string {
	return fmt.Sprintf("image %s: %s; %s", e.Image, e.Cause, e.Hint)
}

// HasImage reports whether the engine holds image.
func (e *Engine) HasImage(ctx context.Context, image string) (bool, error) {
	_, err := e.cli.ImageInspect(ctx, image)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("inspecting image %s: %w", image, err)
}

// LocalOnly reports whether image is one that `make images` builds
// (cutover/…), which no registry serves.
func LocalOnly(image string) bool { return strings.HasPrefix(image, "cutover/") }

// Resolve returns the image to run for want: want itself when the
// engine holds it; else the first of standIns the engine holds (a local
// build made by `make images`); else, when pull is set, want after
// pulling it. Without pull nothing is fetched: the engine would reach
// for a registry, which a machine may not be allowed to. Local-only
// images are never pulled. The error is an *ImageError whose Hint is
// hint.
func (e *Engine) Resolve(ctx context.Context, want string, standIns []string, pull bool, hint string) (string, error) {
	for _, img := range append([]string{want}, standIns...) {
		ok, err := e.HasImage(ctx, img)
		if err != nil {
			return "", err
		}
		if ok {
			return img, nil
		}
	}
	if LocalOnly(want) {
		return "", &ImageError{Image: want, Cause: "not built", Hint: hint}
	}
	if !pull {
		return "", &ImageError{Image: want, Cause: "not present (cutover pulls only with --pull)",
			Hint: "pull it with `docker pull " + want + "` or pass --pull; or " + hint}
	}
	if err := e.pull(ctx, want); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &ImageError{Image: want, Cause: "not present and cannot be pulled (" + firstLine(err) + ")",
			Hint: hint}
	}
	return want, nil
}

// pull pulls image once, within 10 minutes; no retry, unlike
// testcontainers, which retries until its context ends.
func (e *Engine) pull(ctx context.Context, image string) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	resp, err := e.cli.ImagePull(pctx, image, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	return resp.Wait(pctx)
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
