package yamlconf

import "time"

// Join is the path of field under path, "" being the file's top level:
// Join("incident", "timezone") is "incident.timezone".
func Join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// Location loads the time zone name a file gives at path
// ("notify.timezone"). A zone Go does not know is recorded in errs (when
// errs is not nil) and UTC returned.
func Location(errs *Errors, path, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		if errs != nil {
			errs.Addf(path, "%q: %v", name, err)
		}
		return time.UTC
	}
	return loc
}
