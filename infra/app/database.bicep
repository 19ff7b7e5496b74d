// PostgreSQL Flexible Server 16, TLS required. On General Purpose and Memory Optimized the app goes through the
// built-in PgBouncer (port 6432, transaction pooling); Burstable has no PgBouncer, so there the app connects to
// the server itself on 5432 and no pgbouncer.* parameter is written. The `port` output is what the app must use.
// Access: public endpoint limited by firewall to Azure services (and optionally one migration client IP).
// For private access, put the server and the Functions app (Flex supports VNet integration) in one VNet and
// set network.delegatedSubnetResourceId instead; see docs/deploy.md.
param location string
param tags object
param resourceToken string
param administratorLogin string
@secure()
param administratorPassword string
param skuName string
param skuTier string
param pgbouncerDefaultPoolSize int
param pgbouncerMaxClientConn int
param migrationClientIp string

var databaseName = 'tickets'
var pooled = skuTier != 'Burstable'

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: 'psql-tickets-${resourceToken}'
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: '16'
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorPassword
    storage: {
      storageSizeGB: 32
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    authConfig: {
      passwordAuth: 'Enabled'
    }
  }
}

// Flexible Server takes one write at a time and answers a concurrent one with ServerIsBusy, so the database,
// the parameters and the firewall rules are written one after another. Each waits for every write before it, not
// only the previous one: when a conditional predecessor is skipped, ARM drops that dependency altogether.
resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

resource pgbouncerEnabled 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pooled) {
  parent: server
  name: 'pgbouncer.enabled'
  properties: {
    value: 'true'
    source: 'user-override'
  }
  dependsOn: [
    database
  ]
}

resource pgbouncerPoolMode 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pooled) {
  parent: server
  name: 'pgbouncer.pool_mode'
  properties: {
    value: 'transaction'
    source: 'user-override'
  }
  dependsOn: [
    database
    pgbouncerEnabled
  ]
}

resource pgbouncerPoolSize 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pooled) {
  parent: server
  name: 'pgbouncer.default_pool_size'
  properties: {
    value: string(pgbouncerDefaultPoolSize)
    source: 'user-override'
  }
  dependsOn: [
    database
    pgbouncerEnabled
    pgbouncerPoolMode
  ]
}

resource pgbouncerMaxClients 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pooled) {
  parent: server
  name: 'pgbouncer.max_client_conn'
  properties: {
    value: string(pgbouncerMaxClientConn)
    source: 'user-override'
  }
  dependsOn: [
    database
    pgbouncerEnabled
    pgbouncerPoolMode
    pgbouncerPoolSize
  ]
}

// The hold and confirm paths run prepared statements (protocol-level, named by Npgsql). In transaction pooling a
// client's next transaction may land on another server connection; PgBouncer (1.21+) then prepares the statement
// there itself, but only when it tracks them: with 0 (the default) the statement is missing there.
resource pgbouncerPreparedStatements 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pooled) {
  parent: server
  name: 'pgbouncer.max_prepared_statements'
  properties: {
    value: '100'
    source: 'user-override'
  }
  dependsOn: [
    database
    pgbouncerEnabled
    pgbouncerPoolMode
    pgbouncerPoolSize
    pgbouncerMaxClients
  ]
}

resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
  dependsOn: [
    database
    pgbouncerEnabled
    pgbouncerPoolMode
    pgbouncerPoolSize
    pgbouncerMaxClients
    pgbouncerPreparedStatements
  ]
}

resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    database
    pgbouncerEnabled
    pgbouncerPoolMode
    pgbouncerPoolSize
    pgbouncerMaxClients
    pgbouncerPreparedStatements
    requireTls
  ]
}

resource allowMigrationClient 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (!empty(migrationClientIp)) {
  parent: server
  name: 'AllowMigrationClient'
  properties: {
    startIpAddress: migrationClientIp
    endIpAddress: migrationClientIp
  }
  dependsOn: [
    database
    pgbouncerEnabled
    pgbouncerPoolMode
    pgbouncerPoolSize
    pgbouncerMaxClients
    pgbouncerPreparedStatements
    requireTls
    allowAzureServices
  ]
}

output host string = server.properties.fullyQualifiedDomainName
output serverName string = server.name
output databaseName string = database.name
@description('Where the app connects: PgBouncer on 6432 when the tier has it, the server on 5432 on Burstable.')
output port int = pooled ? 6432 : 5432
output pooled bool = pooled
