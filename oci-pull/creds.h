/* creds.h: registry credentials from the Docker client's configuration:
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json, its "auths"
 * entries, and "credHelpers"/"credsStore" through the
 * docker-credential-NAME helper protocol ("get", host on stdin). */
#ifndef OCI_PULL_CREDS_H
#define OCI_PULL_CREDS_H

struct creds {
	char *user;	/* both NULL when anonymous */
	char *pass;
};

/* Fills c for the registry domain (as in a reference: "docker.io",
 * "host:port"). 0 when found or absent (c left empty), -1 with a
 * warning printed when the configuration or a helper is broken. */
int creds_lookup(const char *domain, struct creds *c);
void creds_free(struct creds *c);

#endif
