"""Names and limits shared by the mock server's modules (one place to look them up)."""

SERVICE_NAME = "support-kit-mock-server"
SERVICE_VERSION = "1"
OFFLINE_MODEL_NAME = "support-kit-offline-1"

DEFAULT_HOST = "127.0.0.1"  # loopback only: the Go demo listened on every interface
DEFAULT_PORT = 8081  # the Go demo's port
DEFAULT_DB_FILENAME = "support_kit.sqlite3"
DB_ENV_VAR = "SUPPORT_KIT_DB"

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB; larger bodies get 413
