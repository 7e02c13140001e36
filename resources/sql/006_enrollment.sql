-- One-time enrollment codes for tablets. Schema version 6.

-- A code lets one new device fetch its bearer token once (POST /api/v1/enroll), within 15 minutes
-- of its creation. Only SHA-256 of the normalized code is stored: a copy of the database cannot
-- enroll a device. The device row, and its token, are created only when the code is redeemed.
CREATE TABLE enrollment_codes (
    id           INTEGER PRIMARY KEY,
    code_hash    BLOB NOT NULL UNIQUE,
    device_name  TEXT NOT NULL,
    role         TEXT NOT NULL DEFAULT 'device' CHECK (role IN ('device', 'coordinator')),
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    redeemed_at  TEXT,
    device_id    INTEGER REFERENCES devices(id)
);
