package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/media"
)

// multipartSlack is what the form around a photo may add to the body (boundaries, headers and
// the small fields).
const multipartSlack = 64 << 10

func (s *Server) registerAttachments(r *gin.RouterGroup) {
	upload := withBodyLimit(s.Config.MaxUploadBytes + multipartSlack)
	r.POST("/attachments", upload, s.requireAuth, s.uploadAttachment)
	r.POST("/cases/:id/attachments", upload, s.requireAuth, s.uploadCaseAttachment)
	r.GET("/cases/:id/attachments", s.requireAuth, s.listCaseAttachments)
	r.GET("/attachments/:id", s.requireAuth, s.getAttachment)
	r.GET("/attachments/:id/content", s.requireAuth, s.attachmentContent)
	r.GET("/attachments/:id/thumbnail", s.requireAuth, s.attachmentThumbnail)
}

// Attachment is a photo of a case. What is served (url) was re-encoded without EXIF or GPS
// (HEIC: kept with its metadata items zeroed); the photo's own EXIF time and point were read
// first and are given here to those who see the case.
type Attachment struct {
	ID int64 `json:"id" example:"41"`
	// CaseID is absent while the photo is staged (uploaded before its report or action).
	CaseID int64 `json:"case_id,omitempty" example:"1024"`
	// EventID is the case event (report, feedback, check …) that brought the photo.
	EventID     int64  `json:"event_id,omitempty" example:"5120"`
	Kind        string `json:"kind" enums:"before,after,evidence" example:"before"`
	ContentType string `json:"content_type" enums:"image/jpeg,image/png,image/heic,image/heif" example:"image/jpeg"`
	Size        int64  `json:"size" example:"483211"`
	Width       int    `json:"width" example:"4032"`
	Height      int    `json:"height" example:"3024"`
	// SHA256 is the hex digest of the served bytes (also their ETag).
	SHA256 string `json:"sha256" example:"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	URL    string `json:"url" example:"https://gridcase.example.cn/api/v1/attachments/41/content"`
	// ThumbnailURL is absent when there is no thumbnail (HEIC).
	ThumbnailURL string `json:"thumbnail_url,omitempty" example:"https://gridcase.example.cn/api/v1/attachments/41/thumbnail"`
	OriginalName string `json:"original_name,omitempty" example:"IMG_2031.JPG"`
	// TakenAt, Lat and Lng are what the phone sent; the point is WGS-84 (converted from
	// CoordSys, the system it was sent in).
	TakenAt  *time.Time `json:"taken_at,omitempty" example:"2026-03-16T08:58:00Z"`
	Lat      *float64   `json:"lat,omitempty" example:"32.0153"`
	Lng      *float64   `json:"lng,omitempty" example:"120.8611"`
	CoordSys string     `json:"coord_sys,omitempty" enums:"wgs84,gcj02,bd09" example:"gcj02"`
	// ExifTakenAt, ExifLat and ExifLng are what the photo's own EXIF said (WGS-84).
	ExifTakenAt      *time.Time `json:"exif_taken_at,omitempty" example:"2026-03-16T08:57:41Z"`
	ExifLat          *float64   `json:"exif_lat,omitempty" example:"32.0151"`
	ExifLng          *float64   `json:"exif_lng,omitempty" example:"120.8608"`
	UploadedByUserID int64      `json:"uploaded_by_user_id,omitempty" example:"7"`
	CreatedAt        time.Time  `json:"created_at" example:"2026-03-16T09:01:12Z"`
} //	@name	Attachment

// AttachmentList is a case's photos in upload order.
type AttachmentList struct {
	Items []Attachment `json:"items"`
} //	@name	AttachmentList

func (s *Server) attachmentDTO(a media.Attachment) Attachment {
	base := fmt.Sprintf("%s/api/v1/attachments/%d", s.Config.PublicURL, a.ID)
	out := Attachment{
		ID: a.ID, CaseID: a.CaseID, EventID: a.EventID, Kind: string(a.Kind), ContentType: a.ContentType,
		Size: a.Size, Width: a.Width, Height: a.Height, SHA256: a.SHA256, URL: base + "/content",
		OriginalName: a.OriginalName, TakenAt: a.TakenAt, Lat: a.Lat, Lng: a.Lng, CoordSys: a.CoordSys,
		ExifTakenAt: a.EXIFTakenAt, ExifLat: a.EXIFLat, ExifLng: a.EXIFLng,
		UploadedByUserID: a.UploadedByUserID, CreatedAt: a.CreatedAt,
	}
	if a.HasThumbnail() {
		out.ThumbnailURL = base + "/thumbnail"
	}
	return out
}

// uploadAttachment godoc
//
//	@Summary		Upload a photo before its report or action (staged)
//	@Description	The photo waits, visible to its uploader only, until a report or an action
//	@Description	(feedback, check …) lists its id in attachment_ids. The type is sniffed from the
//	@Description	bytes (JPEG, PNG, WebP, HEIC); what is served is re-encoded without EXIF or GPS
//	@Description	(WebP becomes JPEG; HEIC is kept, its Exif and XMP items zeroed, without a
//	@Description	thumbnail). The photo's own EXIF time and GPS are read first and kept.
//	@ID				uploadAttachment
//	@Tags			attachments
//	@Accept			multipart/form-data
//	@Produce		json
//	@Security		BearerAuth
//	@Param			file		formData	file	true	"the photo (JPEG, PNG, WebP or HEIC; at most GRIDCASE_MAX_UPLOAD_BYTES)"
//	@Param			kind		formData	string	true	"what it shows"	Enums(before, after, evidence)
//	@Param			taken_at	formData	string	false	"when it was taken, RFC 3339"
//	@Param			lat			formData	number	false	"where it was taken"
//	@Param			lng			formData	number	false	"where it was taken"
//	@Param			coord_sys	formData	string	false	"the system of lat/lng (default wgs84)"	Enums(wgs84, gcj02, bd09)
//	@Success		201			{object}	Attachment
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/attachments [post]
func (s *Server) uploadAttachment(c *gin.Context) {
	s.upload(c, 0)
}

// uploadCaseAttachment godoc
//
//	@Summary		Upload a photo to a case
//	@Description	For photos that arrive after the report (weak signal). The caller must see the
//	@Description	case. Sniffing, stripping and limits as for POST /attachments.
//	@ID				uploadCaseAttachment
//	@Tags			attachments
//	@Accept			multipart/form-data
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id			path		int		true	"case id"
//	@Param			file		formData	file	true	"the photo (JPEG, PNG, WebP or HEIC; at most GRIDCASE_MAX_UPLOAD_BYTES)"
//	@Param			kind		formData	string	true	"what it shows"	Enums(before, after, evidence)
//	@Param			taken_at	formData	string	false	"when it was taken, RFC 3339"
//	@Param			lat			formData	number	false	"where it was taken"
//	@Param			lng			formData	number	false	"where it was taken"
//	@Param			coord_sys	formData	string	false	"the system of lat/lng (default wgs84)"	Enums(wgs84, gcj02, bd09)
//	@Success		201			{object}	Attachment
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/cases/{id}/attachments [post]
func (s *Server) uploadCaseAttachment(c *gin.Context) {
	caseID, err := attachmentIDParam(c, "case")
	if err != nil {
		s.fail(c, err)
		return
	}
	s.upload(c, caseID)
}

func (s *Server) upload(c *gin.Context, caseID int64) {
	in, err := readUpload(c, s.Config.MaxUploadBytes)
	if err != nil {
		s.fail(c, err)
		return
	}
	in.CaseID = caseID
	a, err := s.Media.Upload(c.Request.Context(), mustPrincipal(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("%s/api/v1/attachments/%d", s.Config.PublicURL, a.ID))
	c.JSON(http.StatusCreated, s.attachmentDTO(a))
}

// listCaseAttachments godoc
//
//	@Summary	List a case's photos
//	@ID			listCaseAttachments
//	@Tags		attachments
//	@Produce	json
//	@Security	BearerAuth
//	@Param		id	path		int	true	"case id"
//	@Success	200	{object}	AttachmentList
//	@Failure	401,403,404	{object}	Problem
//	@Router		/api/v1/cases/{id}/attachments [get]
func (s *Server) listCaseAttachments(c *gin.Context) {
	caseID, err := attachmentIDParam(c, "case")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.Media.List(c.Request.Context(), mustPrincipal(c), caseID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := AttachmentList{Items: make([]Attachment, len(list))}
	for i, a := range list {
		out.Items[i] = s.attachmentDTO(a)
	}
	c.JSON(http.StatusOK, out)
}

// getAttachment godoc
//
//	@Summary		Get a photo's metadata
//	@Description	A staged photo is visible to its uploader only; a bound one to whoever sees its case.
//	@ID				getAttachment
//	@Tags			attachments
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		int	true	"attachment id"
//	@Success		200	{object}	Attachment
//	@Failure		401,403,404	{object}	Problem
//	@Router			/api/v1/attachments/{id} [get]
func (s *Server) getAttachment(c *gin.Context) {
	id, err := attachmentIDParam(c, "attachment")
	if err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.Media.Get(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.attachmentDTO(a))
}

// attachmentContent godoc
//
//	@Summary		Download a photo
//	@Description	The served bytes: no EXIF, no GPS. ETag is the SHA-256; send If-None-Match to
//	@Description	get 304 instead of the bytes again.
//	@ID				getAttachmentContent
//	@Tags			attachments
//	@Produce		jpeg,png,image/heic,image/heif,json
//	@Security		BearerAuth
//	@Param			id				path		int		true	"attachment id"
//	@Param			If-None-Match	header		string	false	"an ETag already held"
//	@Success		200				{file}		file	"the photo"
//	@Success		304				"not modified"
//	@Failure		401,403,404		{object}	Problem
//	@Router			/api/v1/attachments/{id}/content [get]
func (s *Server) attachmentContent(c *gin.Context) { s.serveAttachment(c, false) }

// attachmentThumbnail godoc
//
//	@Summary		Download a photo's thumbnail
//	@Description	A JPEG at most 320 pixels on its long side; 404 for HEIC photos, which have none.
//	@ID				getAttachmentThumbnail
//	@Tags			attachments
//	@Produce		jpeg,json
//	@Security		BearerAuth
//	@Param			id				path		int		true	"attachment id"
//	@Param			If-None-Match	header		string	false	"an ETag already held"
//	@Success		200				{file}		file	"the thumbnail"
//	@Success		304				"not modified"
//	@Failure		401,403,404		{object}	Problem
//	@Router			/api/v1/attachments/{id}/thumbnail [get]
func (s *Server) attachmentThumbnail(c *gin.Context) { s.serveAttachment(c, true) }

func (s *Server) serveAttachment(c *gin.Context, thumb bool) {
	id, err := attachmentIDParam(c, "attachment")
	if err != nil {
		s.fail(c, err)
		return
	}
	content, err := s.Media.Open(c.Request.Context(), mustPrincipal(c), id, thumb)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer content.Body.Close()
	h := c.Writer.Header()
	h.Set("ETag", content.ETag)
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if etagMatches(c.GetHeader("If-None-Match"), content.ETag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.DataFromReader(http.StatusOK, content.Size, content.ContentType, content.Body, nil)
}

// etagMatches reads If-None-Match: a list of (possibly weak) tags, or "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// attachmentIDParam reads the positive integer path parameter id; anything else names no
// resource.
func attachmentIDParam(c *gin.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("no %s %q", what, c.Param("id"))
	}
	return id, nil
}

// uploadField is the longest value a small form field may have.
const uploadField = 256

// uploadFields are the parts an upload may have.
var uploadFields = map[string]bool{"file": true, "kind": true, "taken_at": true, "lat": true, "lng": true, "coord_sys": true}

// readUpload streams the multipart form: the photo into memory up to maxBytes (one byte more
// is 413), the small fields parsed; unknown fields and a second file are refused.
func readUpload(c *gin.Context, maxBytes int64) (media.Upload, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return media.Upload{}, errs.E(errs.Unsupported, "send the photo as multipart/form-data, in a part named file")
	}
	var (
		in   media.Upload
		f    errs.Fields
		seen = map[string]bool{}
	)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return media.Upload{}, uploadReadError(err)
		}
		name := part.FormName()
		if !uploadFields[name] {
			f.Add(name, "unknown", "unknown field %q", name)
			continue
		}
		if seen[name] {
			f.Add(name, "single", "%s was sent twice", name)
			continue
		}
		seen[name] = true
		if name == "file" {
			in.Data, err = io.ReadAll(io.LimitReader(part, maxBytes+1))
			if err != nil {
				return media.Upload{}, uploadReadError(err)
			}
			if int64(len(in.Data)) > maxBytes {
				return media.Upload{}, errs.E(errs.TooLarge, "the photo is larger than %d bytes", maxBytes)
			}
			in.OriginalName = part.FileName()
			continue
		}
		v, err := readField(part)
		if err != nil {
			return media.Upload{}, err
		}
		setUploadField(&in, &f, name, v)
	}
	if !seen["file"] {
		f.Add("file", "required", "send the photo in a part named file")
	}
	return in, f.Err()
}

func readField(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, uploadField+1))
	if err != nil {
		return "", uploadReadError(err)
	}
	if len(b) > uploadField {
		var f errs.Fields
		f.Add(p.FormName(), "max_length", "%s is longer than %d bytes", p.FormName(), uploadField)
		return "", f.Err()
	}
	return strings.TrimSpace(string(b)), nil
}

func setUploadField(in *media.Upload, f *errs.Fields, name, v string) {
	if v == "" {
		return
	}
	switch name {
	case "kind":
		in.Kind = media.Kind(v)
	case "coord_sys":
		in.CoordSys = v
	case "taken_at":
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.Add(name, "format", "taken_at must be an RFC 3339 time such as 2026-03-16T08:58:00+08:00")
			return
		}
		in.TakenAt = &t
	case "lat", "lng":
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.Add(name, "type", "%s must be a number of degrees", name)
			return
		}
		if name == "lat" {
			in.Lat = &x
		} else {
			in.Lng = &x
		}
	}
}

func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.E(errs.TooLarge, "the upload is larger than %d bytes", tooBig.Limit)
	}
	return errs.Wrap(errs.BadRequest, err, "the multipart body could not be read")
}
