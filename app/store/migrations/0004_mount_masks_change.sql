-- 0004_mount_masks_change (branch sandbox-mounts; renumber at merge): the
-- masks of a mount before its last change and when that change was seen, so
-- that the mount picker can show that the set of masked files changed.
ALTER TABLE mounts ADD COLUMN masks_before TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(masks_before));
ALTER TABLE mounts ADD COLUMN masks_changed TEXT NOT NULL DEFAULT '';
