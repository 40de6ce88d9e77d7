package openwhisk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"
)

// Environment variables LoadConfig reads (the wsk CLI's and OpenWhisk client libraries' names).
const (
	EnvConfigFile  = "WSK_CONFIG_FILE"   // the property file; default $HOME/.wskprops
	EnvAPIHost     = "__OW_API_HOST"     // overrides APIHOST
	EnvAPIKey      = "__OW_API_KEY"      // overrides AUTH
	EnvNamespace   = "__OW_NAMESPACE"    // overrides NAMESPACE
	EnvIgnoreCerts = "__OW_IGNORE_CERTS" // "true": do not verify the API host's certificate
)

// DefaultTimeout bounds one HTTP request to the API host. OpenWhisk answers a blocking
// invocation within about a minute (then with 202 and the activation id).
const DefaultTimeout = 2 * time.Minute

// Config says how to reach an OpenWhisk deployment.
type Config struct {
	// APIHost is the API host: host[:port] (https assumed) or a URL.
	APIHost string
	// AuthKey is the namespace's API key, "uuid:key".
	AuthKey string
	// Namespace is the namespace actions are created and invoked in. Empty means "_", the
	// key's own namespace.
	Namespace string
	// Insecure skips the verification of the API host's TLS certificate (wsk -i), as local
	// deployments with self-signed certificates need.
	Insecure bool
	// Timeout bounds each HTTP request. Zero means DefaultTimeout.
	Timeout time.Duration
}

// LoadConfig reads the configuration as the wsk CLI does: the property file named by
// WSK_CONFIG_FILE, else $HOME/.wskprops (keys APIHOST, AUTH, NAMESPACE), then the environment
// variables __OW_API_HOST, __OW_API_KEY, __OW_NAMESPACE and __OW_IGNORE_CERTS, which override
// the file. A missing default file is not an error when the environment has what is needed.
func LoadConfig() (Config, error) { return LoadConfigFrom(os.Getenv) }

// LoadConfigFrom is LoadConfig with the environment read through getenv.
func LoadConfigFrom(getenv func(string) string) (Config, error) {
	path, explicit := getenv(EnvConfigFile), true
	if path == "" {
		path, explicit = filepath.Join(getenv("HOME"), whisk.DEFAULT_LOCAL_CONFIG), false
	}
	var cfg Config
	if _, err := os.Stat(path); err == nil || explicit {
		props, err := whisk.ReadProps(path) // the client library's reader, as wsk uses
		if err != nil {
			return Config{}, fmt.Errorf("openwhisk config %s (%s): %w", path, EnvConfigFile, err)
		}
		cfg.APIHost, cfg.AuthKey, cfg.Namespace = props[whisk.APIHOST], props[whisk.AUTH], props[whisk.NAMESPACE]
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("openwhisk config: %w", err)
	}
	for _, o := range []struct {
		env string
		to  *string
	}{{EnvAPIHost, &cfg.APIHost}, {EnvAPIKey, &cfg.AuthKey}, {EnvNamespace, &cfg.Namespace}} {
		if v := getenv(o.env); v != "" {
			*o.to = v
		}
	}
	cfg.Insecure = strings.EqualFold(getenv(EnvIgnoreCerts), "true")
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("%w (read %s and the environment)", err, path)
	}
	return cfg, nil
}

// validate checks that cfg names an API host and a key.
func (c Config) validate() error {
	switch {
	case c.APIHost == "":
		return fmt.Errorf("openwhisk config: no API host: set APIHOST in the property file or %s", EnvAPIHost)
	case c.AuthKey == "":
		return fmt.Errorf("openwhisk config: no API key: set AUTH in the property file or %s", EnvAPIKey)
	case c.Timeout < 0:
		return fmt.Errorf("openwhisk config: timeout %v: must not be negative", c.Timeout)
	}
	return nil
}
