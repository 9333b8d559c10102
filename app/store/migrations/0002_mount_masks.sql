-- 0002_mount_masks: the secret files found in a mount at its last scan, as a JSON
-- array of paths relative to the mount (folders end in "/"), shown to the user.
ALTER TABLE mounts ADD COLUMN masks TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(masks));
