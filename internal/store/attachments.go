package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/media"
)

// attachmentRow is a row of attachments (migration 00005).
type attachmentRow struct {
	ID                 int64 `gorm:"primaryKey"`
	CaseID             *int64
	EventID            *int64
	Kind               string
	ContentType        string
	SizeBytes          int64
	Width              int
	Height             int
	SHA256             string `gorm:"column:sha256"`
	BlobKey            string
	ThumbKey           *string
	OriginalName       *string
	TakenAt            *time.Time
	Lat                *float64
	Lng                *float64
	CoordSys           *string
	EXIFTakenAt        *time.Time `gorm:"column:exif_taken_at"`
	EXIFLat            *float64   `gorm:"column:exif_lat"`
	EXIFLng            *float64   `gorm:"column:exif_lng"`
	UploadedByUserID   *int64
	UploadedByAPIKeyID *int64 `gorm:"column:uploaded_by_api_key_id"`
	CreatedAt          time.Time
}

func (attachmentRow) TableName() string { return "attachments" }

func (r attachmentRow) domain() media.Attachment {
	return media.Attachment{
		ID:                 r.ID,
		CaseID:             attDeref(r.CaseID),
		EventID:            attDeref(r.EventID),
		Kind:               media.Kind(r.Kind),
		ContentType:        r.ContentType,
		Size:               r.SizeBytes,
		Width:              r.Width,
		Height:             r.Height,
		SHA256:             r.SHA256,
		BlobKey:            r.BlobKey,
		ThumbKey:           attDeref(r.ThumbKey),
		OriginalName:       attDeref(r.OriginalName),
		TakenAt:            utcPtr(r.TakenAt),
		Lat:                r.Lat,
		Lng:                r.Lng,
		CoordSys:           attDeref(r.CoordSys),
		EXIFTakenAt:        utcPtr(r.EXIFTakenAt),
		EXIFLat:            r.EXIFLat,
		EXIFLng:            r.EXIFLng,
		UploadedByUserID:   attDeref(r.UploadedByUserID),
		UploadedByAPIKeyID: attDeref(r.UploadedByAPIKeyID),
		CreatedAt:          r.CreatedAt.UTC(),
	}
}

// CreateAttachment inserts a photo's row (staged when a.CaseID is 0) and returns it with its
// id and creation time.
func (s *Store) CreateAttachment(ctx context.Context, a media.Attachment) (media.Attachment, error) {
	created := a.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	r := attachmentRow{
		CaseID:             attNullID(a.CaseID),
		EventID:            attNullID(a.EventID),
		Kind:               string(a.Kind),
		ContentType:        a.ContentType,
		SizeBytes:          a.Size,
		Width:              a.Width,
		Height:             a.Height,
		SHA256:             a.SHA256,
		BlobKey:            a.BlobKey,
		ThumbKey:           attNullString(a.ThumbKey),
		OriginalName:       attNullString(a.OriginalName),
		TakenAt:            utcPtr(a.TakenAt),
		Lat:                a.Lat,
		Lng:                a.Lng,
		CoordSys:           attNullString(a.CoordSys),
		EXIFTakenAt:        utcPtr(a.EXIFTakenAt),
		EXIFLat:            a.EXIFLat,
		EXIFLng:            a.EXIFLng,
		UploadedByUserID:   attNullID(a.UploadedByUserID),
		UploadedByAPIKeyID: attNullID(a.UploadedByAPIKeyID),
		CreatedAt:          utc(created),
	}
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return media.Attachment{}, s.translate(err, "create attachment")
	}
	return r.domain(), nil
}

// Attachment returns one photo's row, errs.NotFound when there is none.
func (s *Store) Attachment(ctx context.Context, id int64) (media.Attachment, error) {
	var rows []attachmentRow
	if err := s.conn(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return media.Attachment{}, s.translate(err, "read attachment")
	}
	if len(rows) == 0 {
		return media.Attachment{}, errs.NotFoundf("attachment %d not found", id)
	}
	return rows[0].domain(), nil
}

// CaseAttachments lists a case's photos in upload order.
func (s *Store) CaseAttachments(ctx context.Context, caseID int64) ([]media.Attachment, error) {
	var rows []attachmentRow
	if err := s.conn(ctx).Where("case_id = ?", caseID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, s.translate(err, "list case attachments")
	}
	out := make([]media.Attachment, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// BindAttachments binds staged photos (case_id NULL) that the user uploaded to a case and,
// when eventID is not 0, to the case event that brought them. Casework calls it inside its own
// transaction (InTx joins it). Every id must be a staged upload of that user: otherwise nothing
// is bound and the error is errs.Invalid on the field "attachment_ids". The photos are returned
// in the order of ids (duplicates count once). No ids binds nothing and returns nil.
func (s *Store) BindAttachments(ctx context.Context, caseID, eventID int64, ids []int64, uploaderUserID int64) ([]media.Attachment, error) {
	if uploaderUserID == 0 {
		return nil, errs.E(errs.Internal, "bind attachments: no uploader")
	}
	return s.bindAttachments(ctx, caseID, eventID, ids, "uploaded_by_user_id", uploaderUserID)
}

// BindAttachmentsByAPIKey is BindAttachments for photos an integrator's API key uploaded.
func (s *Store) BindAttachmentsByAPIKey(ctx context.Context, caseID, eventID int64, ids []int64, apiKeyID int64) ([]media.Attachment, error) {
	if apiKeyID == 0 {
		return nil, errs.E(errs.Internal, "bind attachments: no uploader")
	}
	return s.bindAttachments(ctx, caseID, eventID, ids, "uploaded_by_api_key_id", apiKeyID)
}

func (s *Store) bindAttachments(ctx context.Context, caseID, eventID int64, ids []int64, uploaderColumn string, uploader int64) ([]media.Attachment, error) {
	if caseID == 0 {
		return nil, errs.E(errs.Internal, "bind attachments: no case")
	}
	uniq := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(uniq, id) {
			uniq = append(uniq, id)
		}
	}
	if len(uniq) == 0 {
		return nil, nil
	}
	var out []media.Attachment
	err := s.InTx(ctx, func(tx *Store) error {
		var rows []attachmentRow
		q := tx.conn(ctx).Where("id IN ? AND case_id IS NULL AND "+uploaderColumn+" = ?", uniq, uploader)
		if err := tx.forUpdate(q).Find(&rows).Error; err != nil {
			return tx.translate(err, "bind attachments")
		}
		byID := make(map[int64]attachmentRow, len(rows))
		for _, r := range rows {
			byID[r.ID] = r
		}
		var missing []string
		for _, id := range uniq {
			if _, ok := byID[id]; !ok {
				missing = append(missing, fmt.Sprint(id))
			}
		}
		if len(missing) > 0 {
			var f errs.Fields
			f.Add("attachment_ids", "staged", "attachment %s is not a photo you uploaded that waits to be attached", strings.Join(missing, ", "))
			return f.Err()
		}
		res := tx.conn(ctx).Model(&attachmentRow{}).
			Where("id IN ? AND case_id IS NULL", uniq).
			Updates(map[string]any{"case_id": caseID, "event_id": attNullID(eventID)})
		if res.Error != nil {
			return tx.translate(res.Error, "bind attachments")
		}
		if res.RowsAffected != int64(len(uniq)) {
			return errs.E(errs.Conflict, "the photos were attached elsewhere at the same time; try again")
		}
		for _, id := range uniq {
			r := byID[id]
			r.CaseID, r.EventID = &caseID, attNullID(eventID)
			out = append(out, r.domain())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountAttachments counts a case's photos of a kind ("" for every kind) uploaded at or after
// since (the zero time for all of them); casework uses it to require after-photos.
func (s *Store) CountAttachments(ctx context.Context, caseID int64, kind string, since time.Time) (int, error) {
	q := s.conn(ctx).Model(&attachmentRow{}).Where("case_id = ?", caseID)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if !since.IsZero() {
		q = q.Where("created_at >= ?", utc(since))
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, s.translate(err, "count attachments")
	}
	return int(n), nil
}

// DeleteStagedAttachments deletes staged photos uploaded before cutoff that no case took, and
// returns what it deleted so that the caller can remove their blobs.
func (s *Store) DeleteStagedAttachments(ctx context.Context, cutoff time.Time, limit int) ([]media.Attachment, error) {
	var out []media.Attachment
	err := s.InTx(ctx, func(tx *Store) error {
		var rows []attachmentRow
		q := tx.conn(ctx).Where("case_id IS NULL AND created_at < ?", utc(cutoff)).Order("id").Limit(limit)
		if err := tx.forUpdate(q).Find(&rows).Error; err != nil {
			return tx.translate(err, "find stale staged attachments")
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
			out = append(out, r.domain())
		}
		if err := tx.conn(ctx).Where("id IN ? AND case_id IS NULL", ids).Delete(&attachmentRow{}).Error; err != nil {
			return tx.translate(err, "delete stale staged attachments")
		}
		return nil
	})
	return out, err
}

func attDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func attNullID(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

func attNullString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// CaseScopeRow reads what decides who sees a case (media.RowAccess), errs.NotFound when there
// is no such case.
func (s *Store) CaseScopeRow(ctx context.Context, caseID int64) (media.CaseScope, error) {
	var rows []struct {
		RegionPath       *string
		GridCode         *string
		LeadDepartmentID *int64
		ReporterUserID   *int64
	}
	err := s.conn(ctx).Table("cases").
		Select("region_path, grid_code, lead_department_id, reporter_user_id").
		Where("id = ?", caseID).Limit(1).Find(&rows).Error
	if err != nil {
		return media.CaseScope{}, s.translate(err, "read case scope")
	}
	if len(rows) == 0 {
		return media.CaseScope{}, errs.NotFoundf("case %d not found", caseID)
	}
	r := rows[0]
	return media.CaseScope{
		RegionPath:       attDeref(r.RegionPath),
		GridCode:         attDeref(r.GridCode),
		LeadDepartmentID: attDeref(r.LeadDepartmentID),
		ReporterUserID:   attDeref(r.ReporterUserID),
	}, nil
}
