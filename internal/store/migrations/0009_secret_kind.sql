-- What kind of secret a student signs in with: a PIN or a picture password.
-- A student keeps theirs when the class's sign-in mode changes, until the
-- teacher gives a new one (of the class's kind): a child with a PIN is not
-- locked out because the class moved to pictures.
ALTER TABLE students ADD COLUMN secret_kind TEXT NOT NULL DEFAULT '' CHECK (secret_kind IN ('', 'pin', 'picture'));

-- Secrets made before this were of the class's mode at the time; the best
-- guess is its mode now (what the sign-in page asked for until now).
UPDATE students SET secret_kind = CASE
        WHEN (SELECT sign_in FROM classes WHERE classes.id = students.class_id) = 'picture' THEN 'picture'
        ELSE 'pin' END
    WHERE secret_hash IS NOT NULL AND secret_hash <> '';
