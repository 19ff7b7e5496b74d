// The Functions app. Flex Consumption (FC1, Linux): the consumption plan that runs .NET 10 isolated; runtime
// version is the string '10.0' (the string '10' deploys but never starts). Classic Windows Consumption (Y1)
// is the alternative for subscriptions without Flex. Settings the app reads come from Key Vault references
// resolved with the user-assigned identity; timer storage is identity-based (no keys).
param location string
param tags object
param resourceToken string
param hostingPlan string
param maximumInstanceCount int
param alwaysReadyInstances int
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param applicationInsightsConnectionString string
param databaseSecretUri string
param jwtSecretUri string
param webhookSecretUri string
param jwtIssuer string
param jwtAudience string
param holdMode string

var isFlex = hostingPlan == 'FlexConsumption'
var appName = 'func-tickets-${resourceToken}'

// What the app reads (Tickets.Api.AppSettingNames), plus the host's identity-based storage connection.
var appSettings = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: applicationInsightsConnectionString
  }
  // Application Insights takes telemetry from this identity only (local auth is off). The host and the worker's
  // Application Insights SDK read this setting; Program.cs gives the metric exporter the same identity.
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
  // host.json log levels govern the host's own logs only; the isolated worker reads the Logging section of its
  // configuration. These keep its request-level chatter out of Application Insights (Program.cs removes the
  // Application Insights SDK's default Warning floor so that the worker's Information logs arrive). Category
  // names without dots: Linux app setting names cannot carry them.
  {
    name: 'Logging__LogLevel__Default'
    value: 'Information'
  }
  {
    name: 'Logging__LogLevel__Microsoft'
    value: 'Warning'
  }
  {
    name: 'Logging__LogLevel__Npgsql'
    value: 'Warning'
  }
  {
    name: 'ConnectionStrings__Tickets'
    value: '@Microsoft.KeyVault(SecretUri=${databaseSecretUri})'
  }
  {
    name: 'Jwt__SigningKey'
    value: '@Microsoft.KeyVault(SecretUri=${jwtSecretUri})'
  }
  {
    name: 'Webhooks__SecretKey'
    value: '@Microsoft.KeyVault(SecretUri=${webhookSecretUri})'
  }
  {
    name: 'Jwt__Issuer'
    value: jwtIssuer
  }
  {
    name: 'Jwt__Audience'
    value: jwtAudience
  }
  {
    name: 'Tickets__HoldMode'
    value: holdMode
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// Each plan kind has a name of its own: a plan's SKU cannot change between FC1 and Y1, so a shared name made
// switching an environment's hostingPlan fail on the existing plan.
resource flexPlan 'Microsoft.Web/serverfarms@2024-04-01' = if (isFlex) {
  name: 'plan-tickets-flex-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource flexApp 'Microsoft.Web/sites@2024-04-01' = if (isFlex) {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: flexPlan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: 2048
        // The "http" group: every HTTP function shares these instances, already started when requests arrive.
        alwaysReady: alwaysReadyInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyInstances
          }
        ] : []
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

resource windowsPlan 'Microsoft.Web/serverfarms@2024-04-01' = if (!isFlex) {
  name: 'plan-tickets-y1-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'Y1'
    tier: 'Dynamic'
  }
  properties: {}
}

// Classic Consumption keeps the app's files on an Azure Files share, which only takes a key-based
// connection string: the one place this deployment uses a storage key (see docs/deploy.md).
resource windowsApp 'Microsoft.Web/sites@2024-04-01' = if (!isFlex) {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: windowsPlan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      netFrameworkVersion: 'v10.0'
      use32BitWorkerProcess: false
      appSettings: concat(appSettings, [
        {
          name: 'FUNCTIONS_EXTENSION_VERSION'
          value: '~4'
        }
        {
          name: 'FUNCTIONS_WORKER_RUNTIME'
          value: 'dotnet-isolated'
        }
        // Lets Consumption start this app from a pre-warmed .NET isolated placeholder (with netFrameworkVersion
        // above), which shortens cold starts; Flex Consumption does not use it.
        {
          name: 'WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED'
          value: '1'
        }
        {
          name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING'
          value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};EndpointSuffix=${environment().suffixes.storage};AccountKey=${storage.listKeys().keys[0].value}'
        }
        {
          name: 'WEBSITE_CONTENTSHARE'
          value: toLower(appName)
        }
      ])
    }
  }
}

output name string = appName
output defaultHostName string = isFlex ? flexApp!.properties.defaultHostName : windowsApp!.properties.defaultHostName
